"""Every stage in process on a few hundred images: outputs, the average, a budget stop and its resume from the
checkpoint, the chunks a device run brings back, an oracle trained before, and changed recipes refused."""
import json

import pytest
import torch

from poe import checkpoint, data, datasets, evaluate, pipeline, transport
from poe.context import Build


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """A whole tiny build, every stage, through the pipeline."""
    from conftest import TINY
    from poe import settings
    tmp = tmp_path_factory.mktemp('build')
    cfg = {**settings.DEFAULTS, **TINY, 'out': str(tmp / 'b'), 'pool': str(tmp / 'pool')}
    pipeline.run(cfg, 'tiny')
    return tmp, cfg


def test_every_stage_writes_its_output_and_the_pool_is_exported(built):
    tmp, _ = built
    b = tmp / 'b'
    for name in ('oracle', 'teacher_cache', 'library', 'experts', 'tune-1', 'tune-2', 'tune-3', 'average'):
        assert (b / f'{name}.pt').exists(), name
    assert not list(b.glob('*.ckpt'))  # checkpoints go once their stage is done
    assert evaluate.final_output(b).name == 'average.pt'
    manifest = json.loads((tmp / 'pool' / 'pool.json').read_text())
    assert len(manifest['experts']) == 20 and manifest['library']['params'] == 42_768
    m = manifest['metrics']
    assert [r['consolidation'] for r in m['jointTuning']['runs']] == [0.1, 0.2, 0.2]
    assert m['jointTuning']['averaged'] == {'lastRuns': 2, 'weight': 0.5} and m['teacherCache']['views'] == 2
    assert m['oracle']['arch'] == 'WRN-10-1' and 0 <= m['oracle']['test_top1'] <= 1 and 0 <= m['library']['student_test_top1'] <= 1
    assert set(m['stageWallSeconds']) == {'oracle', 'teacher cache', 'library', 'experts', 'joint tuning'}


def test_the_average_is_the_midpoint_of_the_last_two_tunings(built):
    tmp, _ = built
    avg, t2, t3 = (checkpoint.load(tmp / 'b' / f'{n}.pt') for n in ('average', 'tune-2', 'tune-3'))
    assert avg['averaged'] == ['tune-2', 'tune-3']
    for k, v in avg['library'].items():
        if v.is_floating_point():
            assert torch.allclose(v, (t2['library'][k] + t3['library'][k]) / 2, atol=1e-6), k
    w = 'block3.layer.0.conv1.weight'
    assert torch.allclose(avg['experts']['people'][w], (t2['experts']['people'][w] + t3['experts']['people'][w]) / 2, atol=1e-6)
    assert not torch.equal(t2['library']['conv1.weight'], t3['library']['conv1.weight'])  # each tuning trains on from the last


def test_the_exported_pool_serves_the_final_weights(built):
    tmp, _ = built
    _, lib, experts, tasks = evaluate.load_build(tmp / 'b')
    plib, pexperts, ptasks = evaluate.load_pool(tmp / 'pool')
    assert ptasks == tasks
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(plib(x), lib(x), atol=1e-5)
        f = lib(x)
        assert torch.allclose(pexperts['people'](f), experts['people'](f), atol=1e-5)


def test_a_finished_stage_is_kept_and_a_changed_recipe_refused_by_name(built, capsys):
    tmp, cfg = built
    pipeline.run({**cfg, 'stages': 'oracle,teacher,library,experts,tune,average'}, 'tiny')
    assert capsys.readouterr().out.count('done already') == 8
    with pytest.raises(SystemExit, match=r'experts.pt was made with other settings \(alpha\)'):
        pipeline.run({**cfg, 'alpha': 0.5}, 'tiny')


def test_a_budget_stops_between_epochs_and_the_rerun_resumes_from_the_chunks(tiny_cfg, tmp_path, capsys):
    cfg = tiny_cfg(stages='oracle', oracle_epochs=3, budget_s=0.01, return_dir=str(tmp_path / 'ret'))
    with pytest.raises(SystemExit) as e:
        pipeline.run(cfg, 'tiny')
    assert e.value.code == 3 and 'stopping before epoch 2/3' in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / 'ret').iterdir()) == ['build.tar.00']
    pipeline.run({**cfg, 'budget_s': 0.0, 'out': str(tmp_path / 'there'), 'resume_from': str(tmp_path / 'ret')}, 'tiny')
    out = capsys.readouterr().out
    assert 'unpacked 1 chunks' in out and '[oracle] resuming after epoch 1/3' in out
    oracle = checkpoint.load(tmp_path / 'there' / 'oracle.pt')
    assert [h['epoch'] for h in oracle['history']] == [1, 2, 3]
    assert oracle['state_dict']['conv1.weight'].dtype == torch.float16  # a device run returns half the bytes


def test_an_oracle_trained_before_is_adopted_and_left_out_of_the_chunks(tiny_cfg, tmp_path, capsys):
    from poe.wrn import WideResNet
    src = tmp_path / 'cpu-oracle.pt'
    checkpoint.save(src, state_dict=WideResNet(10, 1, 100).state_dict(), arch={'depth': 10, 'widen': 1}, metrics={'epochs': 9})
    with pytest.raises(SystemExit, match='no such file'):
        pipeline.run(tiny_cfg(oracle_from=str(tmp_path / 'nope.pt')), 'tiny')
    (tmp_path / 'torn.pt').write_bytes(src.read_bytes()[:300])
    with pytest.raises(SystemExit, match='not an oracle checkpoint|PyTorch'):
        pipeline.adopt_oracle(tmp_path / 'torn.pt', tmp_path / 'x', False)
    cfg = tiny_cfg(stages='oracle,teacher', oracle_from=str(src), return_dir=str(tmp_path / 'ret'))
    pipeline.run(cfg, 'tiny')
    out = capsys.readouterr().out
    assert 'oracle WRN-10-1 taken from' in out and '== oracle: done already' in out
    import io
    import tarfile
    blob = b''.join(p.read_bytes() for p in sorted((tmp_path / 'ret').glob('build.tar.*')))
    assert tarfile.open(fileobj=io.BytesIO(blob)).getnames() == []  # neither the oracle nor the teacher cache travels


def test_planned_epochs_fill_the_budget_and_are_kept_for_a_resumed_run(tiny_cfg, tmp_path):
    from poe import plan
    cfg = tiny_cfg(budget_s=5.0, plan_epochs=True)
    b = Build(cfg, 'tiny')
    b.out.mkdir(parents=True)
    plan.apply(b)
    chosen = json.loads((b.out / 'plan.json').read_text())
    assert set(chosen['epoch_seconds']) == {'oracle', 'library', 'experts', 'tune'}
    assert all(chosen[k] >= 1 for k in plan.KEYS.values())
    again = Build({**cfg, 'budget_s': 999.0}, 'tiny')
    plan.apply(again)  # a resumed run reads the plan instead of timing anew
    assert all(again.cfg[k] == chosen[k] for k in plan.KEYS.values())
    # no oracle to train: the three tunings take most; the library stops at its cap
    assert plan.choose({'library': 1.0, 'experts': 1.0, 'tune': 1.0}, 10.0, 1000.0, 3) == \
        {'library_epochs': 200, 'expert_epochs': 85, 'tune_epochs': 151}


def test_dataset_parts_rejoin_exactly_and_damage_is_named(tmp_path):
    import sys
    sys.path.insert(0, str(evaluate.SHIPPED.parent / 'tools'))
    from split_data import split
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'train.bin').write_bytes(bytes(range(256)) * 40)
    (src / 'fine_label_names.txt').write_text('apple\n')
    (src / 'coarse_label_names.txt').write_text('fruit\n')
    assert len(split(src, tmp_path / 'parts', 4000)['parts']) == 3
    out = transport.join_parts(tmp_path / 'parts', tmp_path / 'joined')
    assert all((out / f.name).read_bytes() == f.read_bytes() for f in src.iterdir())
    real = split(data.data_dir(), tmp_path / 'real-parts', 48 * 2 ** 20)  # what a device run carries: no test files
    ds = datasets.open_dataset(transport.join_parts(tmp_path / 'real-parts', tmp_path / 'real'))
    assert len(real['parts']) == 3 and ds.test is None and len(ds.train[1]) == 45000 and len(ds.groups) == 20
    part = tmp_path / 'parts' / 'part01.bin'
    part.write_bytes(b'x' + part.read_bytes()[1:])
    with pytest.raises(SystemExit, match='train.bin rebuilt from the parts'):
        transport.join_parts(tmp_path / 'parts', tmp_path / 'again')


def test_checkpointing_leaves_the_live_momentum_in_fp32():
    # a GPU run once died at its second epoch: the bf16 copy for the checkpoint had replaced the live buffers
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, foreach=True)
    for _ in range(2):
        model(torch.randn(8, 4)).square().mean().backward()
        opt.step()
        saved = checkpoint.momentum_to(opt.state_dict(), torch.bfloat16)
    assert all(s['momentum_buffer'].dtype == torch.bfloat16 for s in saved['state'].values())
    assert all(s['momentum_buffer'].dtype == torch.float32 for s in opt.state.values())


def test_a_stage_run_before_what_it_needs_names_the_missing_stage(tiny_cfg):
    with pytest.raises(SystemExit, match=r'experts.pt not found: the experts stage makes it'):
        pipeline.run(tiny_cfg(stages='tune'), 'tiny')
