"""The teacher cache: stored oracle logits equal a fresh pass, resume, refusal of a foreign oracle, and both stages train on it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from poe import data, teacher_cache, train
from poe.oracle import load_oracle
from poe.wrn import WideResNet

EXPERTS = Path(__file__).resolve().parents[1]
N = 96


def make_oracle(folder, seed):
    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({'arch': {'depth': 10, 'widen': 1}, 'state_dict': WideResNet(10, 1, 100).state_dict()}, folder / 'oracle.pt')


def images():
    return np.random.default_rng(0).integers(0, 256, (N, 3, 32, 32), dtype=np.uint8)


def build(folder, views=2, flip=True):
    oracle, _ = load_oracle(folder, torch.device('cpu'))
    return teacher_cache.build(oracle, folder / 'oracle.pt', images(), folder / 'cache.pt', views, flip, 3, 'fp32',
                               torch.device('cpu'), batch_size=40)


@pytest.mark.parametrize('flip', [True, False])
def test_stored_logits_are_the_oracles_on_the_stored_views(tmp_path, flip):
    make_oracle(tmp_path, 0)
    cache = build(tmp_path, flip=flip)
    oracle, _ = load_oracle(tmp_path, torch.device('cpu'))
    x = images()
    for v in range(2):
        xb = train.to_input(data.crop(x, cache.dx[:, v], cache.dy[:, v], cache.flip[:, v]), torch.device('cpu'))
        with torch.no_grad():
            want = train.teacher_logits(oracle, xb, flip)
        assert torch.allclose(cache.logits[:, v].float(), want, atol=2e-2), v
    assert cache.flip.any() != flip  # a flip-averaged cache stores no flips: the student draws them
    imgs, z = cache.batch(x, np.arange(10), np.random.default_rng(1))
    assert imgs.shape == (10, 3, 32, 32) and z.shape == (10, 100) and z.dtype == torch.float32


def test_an_unfinished_cache_is_refused_then_resumed_without_redoing_its_views(tmp_path):
    make_oracle(tmp_path, 0)
    full = build(tmp_path)
    state = torch.load(tmp_path / 'cache.pt')
    state['done'] = 1
    state['logits'][:, 1] = 0
    torch.save(state, tmp_path / 'cache.pt')
    with pytest.raises(SystemExit, match=r'unfinished \(1/2 views\)'):
        teacher_cache.load(tmp_path / 'cache.pt', tmp_path / 'oracle.pt', N)
    state['logits'][:, 0] = 7  # a finished view is kept as stored, not recomputed
    torch.save(state, tmp_path / 'cache.pt')
    resumed = build(tmp_path)
    assert (resumed.logits[:, 0] == 7).all()
    assert torch.equal(resumed.logits[:, 1], full.logits[:, 1])


def test_a_cache_of_another_oracle_or_dataset_is_refused(tmp_path):
    make_oracle(tmp_path, 0)
    build(tmp_path)
    with pytest.raises(SystemExit, match='holds 96 images, the training set here has 95'):
        teacher_cache.load(tmp_path / 'cache.pt', tmp_path / 'oracle.pt', N - 1)
    make_oracle(tmp_path, 1)
    with pytest.raises(SystemExit, match='another oracle'):
        teacher_cache.load(tmp_path / 'cache.pt', tmp_path / 'oracle.pt', N)
    with pytest.raises(SystemExit, match='another oracle or other settings'):
        build(tmp_path)


def test_caches_of_two_seeds_join_into_one_of_all_their_views(tmp_path):
    make_oracle(tmp_path, 0)
    oracle, _ = load_oracle(tmp_path, torch.device('cpu'))
    made = [teacher_cache.build(oracle, tmp_path / 'oracle.pt', images(), tmp_path / f'c{seed}.pt', 2, True, seed, 'fp32',
                                torch.device('cpu'), batch_size=40) for seed in (3, 4)]
    joined = teacher_cache.load_joined([tmp_path / 'c3.pt', tmp_path / 'c4.pt'], tmp_path / 'oracle.pt', N)
    assert joined.views == 4 and joined.logits.shape == (N, 4, 100) and joined.meta['seed'] == [3, 4]
    assert torch.equal(joined.logits[:, 2:], made[1].logits) and (joined.dx[:, :2] == made[0].dx).all()
    _, z = joined.batch(images(), np.zeros(200, int), np.random.default_rng(0))  # image 0, 200 draws
    drawn = {v for row in z for v in range(4) if torch.equal(row, joined.logits[0, v].float())}
    assert drawn == {0, 1, 2, 3}  # the student draws the views of both caches
    teacher_cache.build(oracle, tmp_path / 'oracle.pt', images(), tmp_path / 'plain.pt', 2, False, 5, 'fp32',
                        torch.device('cpu'), batch_size=40)
    with pytest.raises(SystemExit, match='mix flip-averaged and plain views'):
        teacher_cache.load_joined([tmp_path / 'c3.pt', tmp_path / 'plain.pt'], tmp_path / 'oracle.pt', N)


def run(script, *args):
    r = subprocess.run([sys.executable, script, *args], cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_library_and_experts_train_from_a_cache_without_the_oracle(tmp_path):
    tiny = ['--n_train=128', '--epochs=1', '--batch_size=64', '--precision=fp32', f'--out={tmp_path}']
    make_oracle(tmp_path, 0)
    out = run('cache_teacher.py', '--views=2', '--n_train=128', '--precision=fp32', f'--out={tmp_path}')
    assert 'view 2/2 stored' in out
    run('train_library.py', *tiny, '--teacher_cache=teacher_cache.pt')
    (tmp_path / 'oracle.pt').rename(tmp_path / 'oracle.bak')  # the expert stage must not need the oracle's weights...
    r = subprocess.run([sys.executable, 'train_experts.py', *tiny, '--tasks=people', '--teacher_cache=teacher_cache.pt'],
                       cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and 'checked against the oracle it was built from' in r.stdout + r.stderr  # ...but it checks the cache against it
    (tmp_path / 'oracle.bak').rename(tmp_path / 'oracle.pt')
    out = run('train_experts.py', *tiny, '--tasks=people', '--teacher_cache=teacher_cache.pt')
    assert 'experts done' in out and (tmp_path / 'experts' / 'people.pt').exists()
    r = subprocess.run([sys.executable, 'train_experts.py', *tiny, '--tasks=people', '--teacher_cache=teacher_cache.pt', '--teacher_flip'],
                       cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and 'fixes it when built' in r.stdout + r.stderr


def test_library_and_experts_train_on_joined_caches(tmp_path):
    tiny = ['--n_train=128', '--epochs=1', '--batch_size=64', '--precision=fp32', f'--out={tmp_path}']
    make_oracle(tmp_path, 0)
    for seed in (3, 4):
        run('cache_teacher.py', '--views=2', '--n_train=128', '--precision=fp32', f'--seed={seed}', f'--file=c{seed}.pt', f'--out={tmp_path}')
    r = subprocess.run([sys.executable, 'train_library.py', *tiny, '--teacher_cache=c3.pt,missing.pt'],
                       cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and 'missing.pt not found' in r.stdout + r.stderr
    run('train_library.py', *tiny, '--teacher_cache=c3.pt,c4.pt')
    out = run('train_experts.py', *tiny, '--tasks=people', '--teacher_cache=c3.pt,c4.pt')
    assert 'experts done' in out and (tmp_path / 'experts' / 'people.pt').exists()
