"""The teacher cache: stored logits are the oracle's on the stored views, it resumes without redoing a view, and a
cache of another oracle or training set is refused."""
import numpy as np
import pytest
import torch

from poe import checkpoint, teacher
from poe.losses import teacher_logits
from poe.teacher import Images
from poe.wrn import WideResNet

N = 96


def make_oracle(path, seed):
    torch.manual_seed(seed)
    model = WideResNet(10, 1, 100).eval()
    checkpoint.save(path, state_dict=model.state_dict(), arch={'depth': 10, 'widen': 1})
    return model


def images(n=N):
    return Images(np.random.default_rng(0).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), torch.device('cpu'))


def build(tmp_path, oracle, views=2):
    return teacher.build(oracle, tmp_path / 'oracle.pt', images(), tmp_path / 'cache.pt', views, 3, 'fp32', batch_size=40)


def test_stored_logits_are_the_flip_averaged_oracle_on_the_stored_views(tmp_path):
    oracle = make_oracle(tmp_path / 'oracle.pt', 0)
    cache = build(tmp_path, oracle)
    x = images()
    for v in range(2):
        view = x.views(torch.arange(N), cache.dx[:, v], cache.dy[:, v], torch.zeros(N, dtype=torch.bool))
        with torch.no_grad():
            assert torch.allclose(cache.logits[:, v].float(), teacher_logits(oracle, view), atol=2e-2), v
    xb, z = cache.batch(x, torch.arange(10), torch.Generator().manual_seed(1))
    assert xb.shape == (10, 3, 32, 32) and z.shape == (10, 100) and z.dtype == torch.float32


def test_an_unfinished_cache_is_refused_then_resumed_without_redoing_its_views(tmp_path):
    oracle = make_oracle(tmp_path / 'oracle.pt', 0)
    full = build(tmp_path, oracle)
    state = checkpoint.load(tmp_path / 'cache.pt')
    state['done'] = 1
    state['logits'][:, 0] = 7  # a finished view is kept as stored, not recomputed
    checkpoint.save(tmp_path / 'cache.pt', **state)
    with pytest.raises(SystemExit, match=r'unfinished \(1/2 views\)'):
        teacher.load(tmp_path / 'cache.pt', tmp_path / 'oracle.pt', N)
    resumed = build(tmp_path, oracle)
    assert (resumed.logits[:, 0] == 7).all() and torch.equal(resumed.logits[:, 1], full.logits[:, 1])


def test_a_cache_of_another_oracle_or_training_set_is_refused(tmp_path):
    oracle = make_oracle(tmp_path / 'oracle.pt', 0)
    build(tmp_path, oracle)
    with pytest.raises(SystemExit, match='holds 96 images, the training set here has 95'):
        teacher.load(tmp_path / 'cache.pt', tmp_path / 'oracle.pt', N - 1)
    make_oracle(tmp_path / 'oracle.pt', 1)
    with pytest.raises(SystemExit, match='another oracle'):
        teacher.load(tmp_path / 'cache.pt', tmp_path / 'oracle.pt', N)
    with pytest.raises(SystemExit, match='another oracle or other settings'):
        build(tmp_path, oracle)
