"""CIFAR-100 in the official binary record format (optionally gzip-compressed).

The dataset folder comes from --data, else $POE_DATA_DIR, else ../shared/datasets/cifar-100-binary
relative to the repository root. Validation = the last 50 training images of every fine class
(records 45000..49999, since records interleave the 100 classes); training = the other 45000.
"""
import functools
import gzip
import os
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT.parent / 'shared' / 'datasets' / 'cifar-100-binary'
RECORD_BYTES = 3074
MEAN = (0.5071, 0.4867, 0.4408)
STD = (0.2675, 0.2565, 0.2761)
N_VAL_PER_CLASS = 50


class DataMissing(FileNotFoundError):
    pass


def data_dir(override=None):
    d = Path(override or os.environ.get('POE_DATA_DIR') or DEFAULT_DATA_DIR)
    if not d.is_dir():
        raise DataMissing(f'CIFAR-100 not found at {d}. Put the binary dataset there, or pass --data DIR '
                          f'or set POE_DATA_DIR to the folder holding train.*.bin.gz and test.bin.gz.')
    return d


def _read_records(paths):
    chunks = []
    for p in paths:
        opener = gzip.open if p.suffix == '.gz' else open
        with opener(p, 'rb') as f:
            chunks.append(f.read())
    raw = np.frombuffer(b''.join(chunks), dtype=np.uint8)
    if raw.size % RECORD_BYTES:
        raise ValueError(f'{", ".join(map(str, paths))}: size {raw.size} is not a multiple of {RECORD_BYTES} bytes')
    rec = raw.reshape(-1, RECORD_BYTES)
    images = rec[:, 2:].reshape(-1, 3, 32, 32)
    return images.copy(), rec[:, 1].astype(np.int64), rec[:, 0].astype(np.int64)


@functools.lru_cache(maxsize=2)
def _decoded(paths):
    return _read_records(paths)


def _find(d, stem):
    for pattern in (f'{stem}.bin.gz', f'{stem}.*.bin.gz', f'{stem}.bin'):
        found = sorted(d.glob(pattern))
        if found:
            return found
    raise DataMissing(f'no {stem} files ({stem}.bin, {stem}.bin.gz or {stem}.N.bin.gz) in {d}')


def load_split(split, data=None):
    """Returns (images uint8 N x 3 x 32 x 32, fine labels, coarse labels) for train, val, trainval or test.
    The arrays are shared between calls (decoded once per process): do not write to them."""
    d = data_dir(data)
    if split == 'test':
        return _decoded(tuple(_find(d, 'test')))
    images, fine, coarse = _decoded(tuple(_find(d, 'train')))
    n_train = len(images) - 100 * N_VAL_PER_CLASS
    sl = {'train': slice(0, n_train), 'val': slice(n_train, None), 'trainval': slice(None)}[split]
    return images[sl], fine[sl], coarse[sl]


def label_names(data=None):
    d = data_dir(data)
    read = lambda name: [l.strip() for l in (d / name).read_text().splitlines() if l.strip()]
    return read('fine_label_names.txt'), read('coarse_label_names.txt')


def superclasses(fine, coarse):
    """Fine class indices of every superclass, in index order: list of 20 lists of 5."""
    table = {}
    for f, c in zip(fine.tolist(), coarse.tolist()):
        table.setdefault(c, set()).add(f)
    return [sorted(table[c]) for c in sorted(table)]


def normalize(x_uint8, stats=(MEAN, STD)):
    """uint8 N x C x H x W (numpy or tensor, on any device) -> the float batch the models take, channels_last;
    stats: the dataset's per-channel (mean, std) on the 0..1 scale (CIFAR-100's by default)."""
    x = torch.as_tensor(x_uint8)
    mean = torch.tensor(stats[0], device=x.device, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(stats[1], device=x.device, dtype=torch.float32).view(1, -1, 1, 1)
    return ((x.float() / 255 - mean) / std).contiguous(memory_format=torch.channels_last)


def random_views(n, gen):
    """(dx, dy, flip) of n random views: crop offsets 0..8 into the 4-pixel padded image, mirrored half the time.
    Drawn on the CPU from a CPU generator, so a run draws the same views whatever device it trains on."""
    return (torch.randint(0, 9, (n,), generator=gen), torch.randint(0, 9, (n,), generator=gen),
            torch.rand(n, generator=gen) < 0.5)


def crop(x_uint8, dx, dy, flip):
    """The views (dx, dy, flip) of a uint8 batch, as one gather: 32 x 32 crops at offsets (dx, dy) of the
    4-pixel zero-padded images, mirrored where flip. Runs on the batch's device."""
    x = torch.as_tensor(x_uint8)
    n, dev, size = len(x), x.device, x.shape[-1]
    dx, dy, flip = dx.to(dev).long(), dy.to(dev).long(), flip.to(dev)
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    ar = torch.arange(size, device=dev)
    rows = dy[:, None] + ar
    cols = torch.where(flip[:, None], dx[:, None] + size - 1 - ar, dx[:, None] + ar)
    return padded[torch.arange(n, device=dev)[:, None, None, None], torch.arange(x.shape[1], device=dev)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def augment(x_uint8, gen):
    """Random crop with 4-pixel zero padding and horizontal flip (random_views, then crop)."""
    return crop(x_uint8, *random_views(len(x_uint8), gen))
