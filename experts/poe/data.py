"""CIFAR-100 in the official binary record format (optionally gzip-compressed).

The dataset folder comes from --data, else $POE_DATA_DIR, else ../shared/datasets/cifar-100-binary
relative to the repository root. Validation = the last 50 training images of every fine class
(records 45000..49999, since records interleave the 100 classes); training = the other 45000.
"""
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


def _find(d, stem):
    for pattern in (f'{stem}.bin.gz', f'{stem}.*.bin.gz', f'{stem}.bin'):
        found = sorted(d.glob(pattern))
        if found:
            return found
    raise DataMissing(f'no {stem} files ({stem}.bin, {stem}.bin.gz or {stem}.N.bin.gz) in {d}')


def load_split(split, data=None):
    """Returns (images uint8 N x 3 x 32 x 32, fine labels, coarse labels) for train, val, trainval or test."""
    d = data_dir(data)
    if split == 'test':
        return _read_records(_find(d, 'test'))
    images, fine, coarse = _read_records(_find(d, 'train'))
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


def normalize(x_uint8):
    """uint8 N x 3 x H x W -> float normalised tensor, as the model expects."""
    x = torch.as_tensor(x_uint8).float().div_(255)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x_uint8, gen):
    """Random crop with 4-pixel zero padding and horizontal flip, on a uint8 batch (numpy)."""
    n = len(x_uint8)
    dx = gen.integers(0, 9, n)
    dy = gen.integers(0, 9, n)
    flip = gen.random(n) < 0.5
    return crop(x_uint8, dx, dy, flip)


def crop(x_uint8, dx, dy, flip):
    """The views (dx, dy, flip) of a uint8 batch: 32 x 32 crops of the 4-pixel zero-padded images, mirrored where flip."""
    padded = np.pad(x_uint8, ((0, 0), (0, 0), (4, 4), (4, 4)))
    out = np.empty_like(x_uint8)
    for i in range(len(x_uint8)):
        img = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = img[:, :, ::-1] if flip[i] else img
    return out


def batches(n, batch_size, gen=None):
    idx = gen.permutation(n) if gen is not None else np.arange(n)
    for s in range(0, n, batch_size):
        yield idx[s:s + batch_size]
