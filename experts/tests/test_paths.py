"""The CPU-shaped and GPU-shaped builds compute the same thing: data streamed to the device or resident on it, and
the experts one after another or stacked, give the same losses on the same batch (settings are where the code
differs, not separate pipelines)."""
import numpy as np
import pytest
import torch

from poe import data, stages
from poe.context import Build
from poe.teacher import Images, TeacherCache


def test_crop_cuts_the_padded_image_at_the_offsets_and_mirrors():
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    dx, dy, flip = torch.tensor([0, 4, 8]), torch.tensor([8, 4, 0]), torch.tensor([False, True, False])
    got = data.crop(x, dx, dy, flip).numpy()
    padded = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)))
    for i in range(3):
        want = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        assert np.array_equal(got[i], want[:, :, ::-1] if flip[i] else want)
    assert np.array_equal(got[1], x[1, :, :, ::-1])  # offset 4 is the image itself


@pytest.fixture(scope='module')
def builds(tmp_path_factory):
    """One build context per shape, on the same tiny data, with one stand-in teacher cache."""
    from conftest import TINY
    from poe import settings
    out = {}
    for shape, extra in (('cpu', {}), ('gpu', {'data_on_device': True, 'stack_experts': True})):
        out[shape] = Build({**settings.DEFAULTS, **TINY, 'out': str(tmp_path_factory.mktemp(shape)), **extra}, shape)
    n = len(out['cpu'].images)
    g = torch.Generator().manual_seed(0)
    state = {'meta': {'views': 2}, 'dx': torch.randint(0, 9, (n, 2), generator=g, dtype=torch.uint8),
             'dy': torch.randint(0, 9, (n, 2), generator=g, dtype=torch.uint8), 'logits': (torch.randn(n, 2, 100, generator=g) * 3).half()}
    return out, state


def step_loss(b, job):
    """The loss job's step computes on a fixed batch (from a fixed generator state), before its update."""
    return float(job.step(torch.arange(64), torch.Generator().manual_seed(1)))


@pytest.mark.parametrize('stage', ['library', 'experts', 'tune'])
def test_both_shapes_give_the_same_loss_on_the_same_batch(builds, stage):
    contexts, state = builds
    losses = {}
    for shape, b in contexts.items():
        cache = TeacherCache(dict(state))
        torch.manual_seed(5)
        library = stages.Library(*stages.library_arch(b))
        group = stages.new_experts(b, library)
        job = {'library': lambda: stages.library_job(b, cache),
               'experts': lambda: stages.experts_job(b, cache, library, group),
               'tune': lambda: stages.tune_job(b, cache, library, group, 1, 0.2)}[stage]()
        losses[shape] = step_loss(b, job)
    assert losses['cpu'] == pytest.approx(losses['gpu'], rel=1e-5, abs=1e-6)


def test_resident_and_streamed_images_cut_the_same_views():
    x = np.random.default_rng(1).integers(0, 256, (20, 3, 32, 32), dtype=np.uint8)
    a, b = Images(x, torch.device('cpu')), Images(x, torch.device('cpu'), on_device=True)
    idx = torch.tensor([3, 1, 19])
    g1, g2 = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    assert torch.equal(a.augmented(idx, g1), b.augmented(idx, g2))
