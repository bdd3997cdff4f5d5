"""Oracle logits computed once for K augmented views of every training image, reused by every epoch.

The oracle's forward pass is about 70 % of an expert step on a CPU (WRN-16-4: 0.44 s of 0.67 s for a
batch of 256). A student that draws one of K stored views per image per epoch trains without it.
With flip, a view's logits average the crop and its mirror (a flip-invariant, stronger teacher),
so the student may see either side with the same target: 2K oracle passes give 2K distinct views.

The cache is built one view at a time into a resumable file and is tied to its oracle by a hash.
"""
import hashlib
import time
from pathlib import Path

import numpy as np
import torch

from . import data, train


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def build(oracle, oracle_path, x, path, views, flip, seed, precision, device, batch_size=500):
    """Write (or finish) the cache at path; returns it loaded. Resumes after the last finished view."""
    path = Path(path)
    sha = file_sha256(oracle_path)
    n = len(x)
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 9, (2, n, views)).astype(np.uint8)
    flips = (rng.random((n, views)) < 0.5) if not flip else np.zeros((n, views), bool)
    meta = {'oracle_sha256': sha, 'n': n, 'views': views, 'flip': flip, 'seed': seed}
    state = train.load_checkpoint(path)
    if state is not None and state['meta'] != meta:
        raise SystemExit(f'error: {path} was built for another oracle or other settings; delete it to rebuild')
    if state is None:
        state = {'meta': meta, 'done': 0, 'dx': offsets[0], 'dy': offsets[1], 'flip': flips,
                 'logits': torch.zeros(n, views, 100, dtype=torch.float16)}
    t0, wall = time.time(), state.get('wall_s', 0.0)
    oracle = train.inference_model(oracle, device, precision)
    for v in range(state['done'], views):
        for s in range(0, n, batch_size):
            sl = slice(s, min(n, s + batch_size))
            xb = train.to_input(data.crop(x[sl], state['dx'][sl, v], state['dy'][sl, v], state['flip'][sl, v]), device)
            with torch.no_grad(), train.autocast(device, precision):
                z = train.teacher_logits(oracle, xb, flip)
            state['logits'][sl, v] = z.float().cpu().half()
        state['done'], state['wall_s'] = v + 1, wall + time.time() - t0
        train.save_checkpoint(path, **state)
        train.log(f'[teacher cache] view {v + 1}/{views} stored ({time.time() - t0:.0f}s in this run)')
    return load(path, oracle_path, n)


class TeacherCache:
    def __init__(self, state):
        self.meta = state['meta']
        self.views = self.meta['views']
        self.dx, self.dy, self.flip = state['dx'], state['dy'], state['flip']
        self.logits = state['logits']
        self.wall_s = state.get('wall_s', 0.0)

    def batch(self, x_uint8, idx, gen):
        """One stored view per image of x[idx], drawn from gen: (augmented uint8 images, float32 oracle logits)."""
        v = gen.integers(0, self.views, len(idx))
        flip = gen.random(len(idx)) < 0.5 if self.meta['flip'] else self.flip[idx, v]
        images = data.crop(x_uint8[idx], self.dx[idx, v], self.dy[idx, v], flip)
        return images, self.logits[torch.as_tensor(idx), torch.as_tensor(v)].float()


def load(path, oracle_path, n):
    """The finished cache at path, checked against the oracle file and the number of training images."""
    path = Path(path)
    if not path.exists():
        raise SystemExit(f'error: teacher cache {path} not found; build it with cache_teacher.py')
    state = torch.load(path, map_location='cpu')
    meta = state['meta']
    if state['done'] < meta['views']:
        raise SystemExit(f'error: teacher cache {path} is unfinished ({state["done"]}/{meta["views"]} views); '
                         f'rerun cache_teacher.py to finish it')
    if meta['n'] != n:
        raise SystemExit(f'error: teacher cache {path} holds {meta["n"]} images, the training set here has {n}')
    if not Path(oracle_path).exists():
        raise SystemExit(f'error: {oracle_path} not found; a teacher cache is checked against the oracle it was built from')
    if meta['oracle_sha256'] != file_sha256(oracle_path):
        raise SystemExit(f'error: teacher cache {path} was built from another oracle than {oracle_path}; rebuild it')
    return TeacherCache(state)


def load_joined(paths, oracle_path, n):
    """Several finished caches of the same oracle (built with different seeds) as one cache of all their views."""
    caches = [load(p, oracle_path, n) for p in paths]
    if len(caches) == 1:
        return caches[0]
    if len({c.meta['flip'] for c in caches}) > 1:
        raise SystemExit('error: teacher caches ' + ', '.join(map(str, paths)) + ' mix flip-averaged and plain views; '
                         'join caches built with the same --flip')
    views = sum(c.views for c in caches)
    meta = {**caches[0].meta, 'views': views, 'seed': [c.meta['seed'] for c in caches]}
    return TeacherCache({'meta': meta, 'dx': np.concatenate([c.dx for c in caches], 1),
                         'dy': np.concatenate([c.dy for c in caches], 1),
                         'flip': np.concatenate([c.flip for c in caches], 1),
                         'logits': torch.cat([c.logits for c in caches], 1),
                         'wall_s': sum(c.wall_s for c in caches)})


def load_named(folder, names, n):
    """The caches named in names, files in folder ("a,b" joins several), checked against folder/oracle.pt."""
    folder = Path(folder)
    return load_joined([folder / f for f in names.split(',')], folder / 'oracle.pt', n)
