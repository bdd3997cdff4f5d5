"""The training images and the teacher the distillation stages learn from.

Images keeps the training set as one uint8 tensor, on the host (each batch is copied to the device) or on the
device, and cuts augmented views of it there. TeacherCache holds the oracle's logits for K views of every
training image, computed once and reused by every epoch of every distillation stage (the oracle's forward pass
is about 70 % of an expert step on a CPU). A view is a crop; its logits average the crop and its mirror, so the
student may see either side with the same target. The cache is built one view at a time into a resumable file,
tied to its oracle by a hash; under torchrun each process computes a share of every view.
"""
import time

import torch
import torch.distributed as dist

from . import checkpoint, data, runtime
from .losses import teacher_logits


class Images:
    def __init__(self, x_uint8, device, on_device=False, stats=(data.MEAN, data.STD)):
        self.x = torch.as_tensor(x_uint8)
        self.x = self.x.to(device) if on_device else self.x
        self.device, self.stats = device, stats

    def __len__(self):
        return len(self.x)

    def views(self, idx, dx, dy, flip):
        """The views (dx, dy, flip) of the images idx, normalised, on the device."""
        xb = self.x[idx.to(self.x.device)].to(self.device, non_blocking=True)
        return data.normalize(data.crop(xb, dx, dy, flip), self.stats)

    def augmented(self, idx, gen):
        return self.views(idx, *data.random_views(len(idx), gen))


class TeacherCache:
    def __init__(self, state):
        self.meta = state['meta']
        self.views = self.meta['views']
        self.dx, self.dy, self.logits = state['dx'], state['dy'], state['logits']
        self.wall_s = state.get('wall_s', 0.0)

    def to(self, device):
        self.dx, self.dy, self.logits = self.dx.to(device), self.dy.to(device), self.logits.to(device)
        return self

    def batch(self, images, idx, gen):
        """One stored view per image of idx, drawn from gen, either side: (normalised images, float oracle logits)."""
        v = torch.randint(0, self.views, (len(idx),), generator=gen)
        flip = torch.rand(len(idx), generator=gen) < 0.5
        i, v = idx.to(self.dx.device), v.to(self.dx.device)
        x = images.views(idx, self.dx[i, v], self.dy[i, v], flip)
        return x, self.logits[i, v].to(images.device).float()


def build(oracle, oracle_path, images, path, views, seed, precision, batch_size=500):
    """Writes (or finishes) the cache at path and returns it. Resumes after the last finished view."""
    n, device = len(images), images.device
    meta = {'oracle_sha256': checkpoint.file_sha256(oracle_path), 'n': n, 'views': views, 'seed': seed}
    state = checkpoint.load(path)
    if state is not None and state['meta'] != meta:
        raise SystemExit(f'error: {path} was built for another oracle or other settings; delete it to rebuild')
    if state is None:
        gen = torch.Generator().manual_seed(seed)
        state = {'meta': meta, 'done': 0, 'dx': torch.randint(0, 9, (n, views), generator=gen, dtype=torch.uint8),
                 'dy': torch.randint(0, 9, (n, views), generator=gen, dtype=torch.uint8), 'logits': None}
    rank, size = runtime.world()
    mine = torch.arange(rank, n, size)
    t0, wall = time.time(), state.get('wall_s', 0.0)
    for v in range(state['done'], views):
        z = None
        for s in range(0, len(mine), batch_size):
            idx = mine[s:s + batch_size]
            x = images.views(idx, state['dx'][idx, v], state['dy'][idx, v], torch.zeros(len(idx), dtype=torch.bool))
            with torch.no_grad(), runtime.autocast(device, precision):
                out = teacher_logits(oracle, x).float().cpu()
            z = torch.zeros(n, out.shape[1]) if z is None else z
            z[idx] = out
        if size > 1:
            dist.all_reduce(z)  # every process holds its share, zeros elsewhere: the sum is the whole view
        if state['logits'] is None:
            state['logits'] = torch.zeros(n, views, z.shape[1], dtype=torch.float16)
        state['logits'][:, v] = z.half()
        state['done'], state['wall_s'] = v + 1, wall + time.time() - t0
        if runtime.is_main():
            checkpoint.save(path, **state)
        runtime.log(f'[teacher] view {v + 1}/{views} stored ({time.time() - t0:.0f}s in this run)')
    return TeacherCache(state)


def load(path, oracle_path, n):
    """The finished cache at path, checked against the oracle file and the number of training images."""
    state = checkpoint.load(path)
    if state is None:
        raise SystemExit(f'error: teacher cache {path} not found; the teacher stage builds it')
    meta = state['meta']
    if state['done'] < meta['views']:
        raise SystemExit(f'error: teacher cache {path} is unfinished ({state["done"]}/{meta["views"]} views); '
                         f'run the teacher stage to finish it')
    if meta['n'] != n:
        raise SystemExit(f'error: teacher cache {path} holds {meta["n"]} images, the training set here has {n}')
    if meta['oracle_sha256'] != checkpoint.file_sha256(oracle_path):
        raise SystemExit(f'error: teacher cache {path} was built from another oracle than {oracle_path}; delete it to rebuild')
    return TeacherCache(state)
