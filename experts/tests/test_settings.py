"""Settings: configs and overrides resolve, bad ones are refused by name, and the full config is the recipe that
built the shipped pool (as its pool.json records it, and as its stage checkpoints recorded it)."""
import json

import pytest

from poe import data, settings
from poe.context import RECIPE

SHIPPED_POOL = data.REPO_ROOT / 'public' / 'pools' / 'cifar100' / 'pool.json'

# What the built-in pool's stage checkpoints recorded (read from experts/checkpoints/wrn16-4-lib at commit 9ca9140, before
# weights left git): the settings its pool.json does not carry.
SHIPPED_STAGE_SETTINGS = {
    'oracle_batch': 128, 'oracle_lr': 0.1, 'oracle_seed': 0, 'teacher_seed': 3,
    'library_batch': 128, 'library_lr': 0.1, 'library_seed': 1,
    'expert_width': 16, 'expert_batch': 256, 'expert_lr': 0.1, 'expert_seed': 2,
    'tune_batch': 256, 'tune_lr': 0.05, 'tune_seed': 3,
    'temperature': 4.0, 'alpha': 0.3, 'weight_decay': 5e-4, 'n_train': 0,
}


def test_the_full_config_is_the_recipe_of_the_shipped_pool():
    cfg, name = settings.resolve(['full'])
    m = json.loads(SHIPPED_POOL.read_text())['metrics']
    assert name == 'full' and cfg['pool'] == 'public/pools/cifar100'
    assert f'WRN-{cfg["oracle_depth"]}-{cfg["oracle_widen"]}' == m['oracle']['arch'] and cfg['oracle_epochs'] == m['oracle']['epochs']
    assert cfg['teacher_views'] == m['teacherCache']['views'] and m['teacherCache']['flip']
    assert cfg['library_epochs'] == m['library']['epochs'] and cfg['expert_epochs'] == m['experts']['epochs']
    runs = m['jointTuning']['runs']
    assert [(r, w) for r, w in settings.tunings(cfg)] == [(i, r['consolidation']) for i, r in enumerate(runs, 1)]
    assert all(r['epochs'] == cfg['tune_epochs'] for r in runs)
    assert cfg['tune_average'] == m['jointTuning']['averaged']['lastRuns'] and m['jointTuning']['averaged']['weight'] == 0.5
    assert {k: cfg[k] for k in SHIPPED_STAGE_SETTINGS} == SHIPPED_STAGE_SETTINGS
    assert settings.stages(cfg) == list(settings.STAGES)


def test_quick_and_gpu_run_the_same_stages_with_the_same_tunings_and_average():
    full, _ = settings.resolve(['full'])
    for config in ('quick', 'gpu'):
        cfg, _ = settings.resolve([config])
        assert settings.tunings(cfg) == settings.tunings(full) and settings.averaged(cfg) == settings.averaged(full) == [2, 3], config
        # only epochs, sizes and where it runs differ: the stages' losses and weights are the recipe's
        for k in ('temperature', 'alpha', 'weight_decay', 'expert_width', 'tune_lr', 'tune_batch'):
            assert cfg[k] == full[k], (config, k)
    gpu, _ = settings.resolve(['gpu'])
    assert gpu['stack_experts'] and gpu['data_on_device'] and gpu['plan_epochs'] and gpu['budget_s'] > 0
    assert settings.stages(gpu) == [s for s in settings.STAGES if s != 'export']  # the test images stay here
    assert all(k in settings.DEFAULTS for keys in RECIPE.values() for k in keys)


def test_overrides_are_typed_and_a_weight_list_sets_the_tunings():
    cfg, _ = settings.resolve(['quick', '--oracle_epochs=3', '--tune_lr=1', '--stack-experts', '--tune_consolidation=0.3'])
    assert cfg['oracle_epochs'] == 3 and cfg['tune_lr'] == 1.0 and cfg['stack_experts'] is True
    assert settings.tunings(cfg) == [(1, 0.3)] and settings.averaged(cfg) == []
    cfg, _ = settings.resolve(['quick', '--tune_consolidation=0,0.2', '--tune_average=0', '--device=cuda'])
    assert settings.tunings(cfg) == [(1, 0.0), (2, 0.2)] and settings.averaged(cfg) == [] and cfg['device'] == 'cuda'
    assert settings.averaged(settings.resolve(['--tune_average=5'])[0]) == [1, 2, 3]


def test_a_config_file_given_by_path_is_read(tmp_path):
    f = tmp_path / 'mine.py'
    f.write_text('library_epochs = 7\nimport os as _os\n')
    cfg, name = settings.resolve([str(f)])
    assert name == 'mine' and cfg['library_epochs'] == 7
    f.write_text('libary_epochs = 7\n')
    with pytest.raises(SystemExit, match='mine.py sets unknown setting libary_epochs'):
        settings.resolve([str(f)])


@pytest.mark.parametrize('args, says', [
    (['nope'], 'no config nope .* known: fashion, full, gpu, quick'),
    (['--epochs=3'], 'unknown setting --epochs'),
    (['--oracle_epochs=0.5'], 'expects a int'),
    (['--oracle_epochs'], 'needs a value'),
    (['--oracle_epochs=0'], 'oracle_epochs=0: must be at least 1'),
    (['--oracle_depth=12'], '6n\\+4'),
    (['--precision=fp16'], 'expected one of auto, bf16, fp32'),
    (['--stages=oracle,tuning'], 'unknown stage tuning'),
    (['--tune_consolidation=0.1,abc'], 'numbers separated by commas'),
    (['--tune_consolidation=0.1,-0.2'], 'cannot be negative'),
    (['--tune_average=-1'], 'the number of last tunings to average'),
    (['--plan_epochs'], 'give a budget too'),
    (['quick', 'extra'], 'unexpected argument'),
    (['--oracle=my.module:factory'], 'go together'),
    (['--oracle=module', '--oracle_weights=w.pt'], 'expected package.module:factory'),
    (['--oracle=m:f', '--oracle_weights=w.pt', '--oracle_from=o.pt'], 'give one'),
])
def test_bad_settings_are_refused_by_name(args, says):
    with pytest.raises(SystemExit, match=says):
        settings.resolve(args)


def test_help_lists_every_setting_with_the_configs_value(capsys):
    with pytest.raises(SystemExit) as e:
        settings.resolve(['quick', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(f'--{k}=' in out for k in settings.DEFAULTS) and '--oracle_epochs=4    (default 60)' in out
