"""A pool tuned again from a tuned pool records both runs, and the manifest sums them."""
import pytest

from build_pool import cache_file_names, consolidation_weights, joint_tuning_metrics
from tune_library import earlier_tunings


def _tuned(epochs, wall, before=None, consolidation=0.1):
    ck = {'tune_cfg': {'epochs': epochs, 'consolidation': consolidation, 'consolidation_query': 0},
          'metrics': {'tune_wall_s': wall}}
    return {**ck, 'tune_before': before} if before is not None else ck


def test_an_untuned_base_has_no_earlier_tunings_and_no_joint_tuning_metrics():
    assert earlier_tunings({'metrics': {}}) == [] and joint_tuning_metrics({'metrics': {}}) is None


def test_one_tuning_reports_its_own_epochs_and_time_without_a_run_list():
    m = joint_tuning_metrics(_tuned(60, 100.0))
    assert m == {'epochs': 60, 'consolidation': 0.1, 'consolidationQuery': 0, 'wall_s': 100.0}


def test_tuning_a_tuned_pool_twice_more_lists_every_run_oldest_first_and_sums_them():
    first = _tuned(60, 100.0, consolidation=0.05)
    second = _tuned(60, 200.0, before=earlier_tunings(first))
    third = _tuned(30, 50.0, before=earlier_tunings(second))
    assert [r['wall_s'] for r in earlier_tunings(third)] == [100.0, 200.0, 50.0]
    assert earlier_tunings(second)[0]['consolidation'] == 0.05
    m = joint_tuning_metrics(third)
    assert m['epochs'] == 150 and m['wall_s'] == 350.0
    assert m['runs'] == [{'epochs': 60, 'consolidation': 0.05, 'wall_s': 100.0}, {'epochs': 60, 'consolidation': 0.1, 'wall_s': 200.0},
                         {'epochs': 30, 'consolidation': 0.1, 'wall_s': 50.0}]
    assert m['consolidation'] == 0.1  # the last run's


def test_consolidation_weights_give_one_per_run_the_last_repeating():
    assert consolidation_weights('0.1,0.2', 2) == [0.1, 0.2]
    assert consolidation_weights('0.1,0.2', 1) == [0.1]
    assert consolidation_weights('0.1,0.2', 3) == [0.1, 0.2, 0.2]
    assert consolidation_weights(0.05, 2) == [0.05, 0.05]
    assert consolidation_weights('0', 1) == [0.0]


@pytest.mark.parametrize('bad, says', [('0.1,abc', 'comma-separated list of numbers'), ('', 'comma-separated list'),
                                       ('0.1,-0.2', 'cannot be negative')])
def test_a_bad_consolidation_list_is_refused_with_a_clear_message(bad, says):
    with pytest.raises(SystemExit, match=says):
        consolidation_weights(bad, 2)


def test_teacher_seeds_name_one_cache_each_the_first_the_default_file():
    assert cache_file_names('3') == {3: 'teacher_cache.pt'}
    assert cache_file_names(3) == {3: 'teacher_cache.pt'}
    assert cache_file_names('3,4') == {3: 'teacher_cache.pt', 4: 'teacher_cache_s4.pt'}


@pytest.mark.parametrize('bad, says', [('3,four', 'comma-separated list of integers'), ('', 'comma-separated list'),
                                       ('3,3', 'repeats a seed')])
def test_bad_teacher_seeds_are_refused_with_a_clear_message(bad, says):
    with pytest.raises(SystemExit, match=says):
        cache_file_names(bad)
