"""Labelled image sets, each read by a small adapter into one record (Dataset): uint8 images N x C x S x S and
labels for train, val and (where there is one) test, the class names, the dataset's own grouping of classes
where it has one, and the per-channel mean and std the models normalise with.

- CIFAR-100 binary (train*.bin[.gz], test.bin[.gz], *_label_names.txt; poe/data.py): the grouping is its 20
  superclasses; validation = the last 50 training images of each class; its published mean and std.
- An image folder in torchvision's ImageFolder layout, root/<split>/<class>/*.png|jpg: splits train, optional
  val and test. Images are resized to --size (or must share one square size), grey when every image is.
- IDX files (the MNIST family): train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-... for test;
  class names from an optional classes.txt (one per line), else the label numbers.

Where a dataset has no validation split it is carved from the training split with a fixed seed, a share of
every class, and the build log says so. Mean and std (except CIFAR-100's) are computed on the training split.
"""
import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import data

VAL_SHARE = 0.1  # of each class, when the dataset has no validation split
VAL_SEED = 0
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp')
CIFAR100_FILES = 'train.bin.gz / train.N.bin.gz, test.bin.gz, fine_label_names.txt, coarse_label_names.txt'


@dataclass
class Dataset:
    kind: str
    root: Path
    class_names: list
    train: tuple              # (uint8 images N x C x S x S, int64 labels)
    val: tuple
    test: tuple = None
    groups: dict = None       # the dataset's own primitive tasks: name -> class indices
    mean: tuple = None
    std: tuple = None
    notes: list = field(default_factory=list)

    @property
    def size(self):
        return int(self.train[0].shape[-1])

    @property
    def channels(self):
        return int(self.train[0].shape[1])

    def input_spec(self):
        """What pool.json's "input" records: the engine resizes, converts and normalises to it."""
        return {'sizePx': self.size, 'channels': 'RGB' if self.channels == 3 else 'L', 'range': [0, 255], 'layout': 'NHWC',
                'mean': [round(float(m), 4) for m in self.mean], 'std': [round(float(s), 4) for s in self.std]}


def open_dataset(path=None, size=0, classes=''):
    """The dataset at path (default: $POE_DATA_DIR or the shared CIFAR-100), its adapter chosen from what is there.
    classes: comma-separated class names for data that names none (IDX files without classes.txt)."""
    ds = _open(path, size)
    if classes:
        names = [c.strip() for c in classes.split(',')]
        if len(names) != len(ds.class_names) or not all(names) or len(set(names)) != len(names):
            raise ValueError(f'--classes names {len(names)} classes ({classes!r}); {ds.root} has {len(ds.class_names)}, '
                             f'each needs one distinct, non-empty name')
        ds.class_names = names
    return ds


def _open(path, size):
    if not path:
        return cifar100(data.data_dir())
    root = Path(path)
    if not root.is_dir():
        raise data.DataMissing(f'no dataset at {root}: --data takes a folder holding CIFAR-100 binary files ({CIFAR100_FILES}), '
                               f'an image folder (train/<class>/*.png) or IDX files (train-images-idx3-ubyte.gz, ...)')
    if list(root.glob('train*.bin.gz')) or list(root.glob('train*.bin')):
        return cifar100(root)
    if _idx_file(root, 'train', 'images'):
        return idx(root)
    if (root / 'train').is_dir():
        return image_folder(root, size)
    raise data.DataMissing(f'{root} holds no dataset this builder reads: CIFAR-100 binary files ({CIFAR100_FILES}), '
                           f'an image folder (train/<class>/*.png, optional val/ and test/) or IDX files '
                           f'(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...)')


def cifar100(root):
    x, y, _ = data.load_split('train', root)
    xv, yv, cv = data.load_split('val', root)
    try:
        xt, yt, _ = data.load_split('test', root)
    except data.DataMissing:  # a device run carries the training files only
        xt = yt = None
    fine, coarse = data.label_names(root)
    return Dataset('cifar100', root, fine, (x, y), (xv, yv), None if xt is None else (xt, yt), dict(zip(coarse, data.superclasses(yv, cv))),
                   data.MEAN, data.STD, ['validation: the last 50 training images of each class'])


def idx(root):
    x, y = _read_idx(_idx_file(root, 'train', 'images')), _read_idx(_idx_file(root, 'train', 'labels'))
    test = None
    if _idx_file(root, 't10k', 'images'):
        test = (_as_images(_read_idx(_idx_file(root, 't10k', 'images'))), _read_idx(_idx_file(root, 't10k', 'labels')).astype(np.int64))
    x, y = _as_images(x), y.astype(np.int64)
    if len(x) != len(y):
        raise ValueError(f'{root}: {len(x)} training images but {len(y)} labels')
    n_classes = int(y.max()) + 1
    names_file = root / 'classes.txt'
    names = [l.strip() for l in names_file.read_text().splitlines() if l.strip()] if names_file.exists() else [str(c) for c in range(n_classes)]
    if len(names) < n_classes:
        raise ValueError(f'{names_file} names {len(names)} classes, the labels go up to {n_classes - 1}')
    return _finish('idx', root, names, (x, y), None, test)


def image_folder(root, size=0):
    splits = {s: _read_folder(root / s, size) for s in ('train', 'val', 'test') if (root / s).is_dir()}
    names = splits['train'][2]
    for s, (_, _, other) in splits.items():
        if other != names:
            raise ValueError(f'{root / s} has classes {", ".join(other)}, train has {", ".join(names)}: the splits must share their class folders')
    sizes = {v[0].shape[1:] for v in splits.values()}
    if len(sizes) > 1:
        raise ValueError(f'{root}: the splits differ in image size or colour ({sorted(sizes)}); give --size=N')
    pick = lambda s: splits[s][:2] if s in splits else None
    return _finish('folder', root, names, pick('train'), pick('val'), pick('test'))


def _finish(kind, root, names, train, val, test):
    notes = []
    if val is None:
        train, val = carve_val(*train)
        notes.append(f'validation: {len(val[1])} images carved from the training split ({VAL_SHARE:.0%} of each class, seed {VAL_SEED})')
    x = train[0].astype(np.float64) / 255
    mean, std = tuple(x.mean(axis=(0, 2, 3))), tuple(x.std(axis=(0, 2, 3)))
    return Dataset(kind, root, names, train, val, test, None, mean, std, notes)


def carve_val(x, y):
    """A fixed share of every class's training images as the validation split."""
    rng = np.random.default_rng(VAL_SEED)
    val = np.zeros(len(y), bool)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        val[rng.choice(members, max(1, int(round(len(members) * VAL_SHARE))), replace=False)] = True
    return (x[~val], y[~val]), (x[val], y[val])


def _idx_file(root, prefix, what):
    kind = 'idx3' if what == 'images' else 'idx1'
    for name in (f'{prefix}-{what}-{kind}-ubyte.gz', f'{prefix}-{what}-{kind}-ubyte', f'{prefix}-{what}.{kind}-ubyte'):
        if (root / name).exists():
            return root / name
    return None


def _read_idx(path):
    """An IDX array: magic (0, 0, type 0x08 = uint8, ndim), big-endian dimensions, then the data."""
    raw = (gzip.open if path.suffix == '.gz' else open)(path, 'rb').read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f'{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex()})')
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    body = np.frombuffer(bytearray(raw), np.uint8, offset=4 + 4 * ndim)  # writable: torch shares it
    if body.size != int(np.prod(dims)):
        raise ValueError(f'{path}: {body.size} bytes of data for dimensions {dims} (truncated?)')
    return body.reshape(dims)


def _as_images(a):
    """N x H x W (grey) or N x H x W x C -> N x C x H x W, square."""
    a = a[:, None] if a.ndim == 3 else a.transpose(0, 3, 1, 2)
    if a.shape[2] != a.shape[3]:
        raise ValueError(f'images of {a.shape[2]} x {a.shape[3]}: this builder takes square images')
    return np.ascontiguousarray(a)


def _read_folder(folder, size):
    """(uint8 N x C x S x S, labels, class names) of an ImageFolder split, decoded once into a cache file."""
    from PIL import Image, UnidentifiedImageError
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f'{folder} has no class folders ({folder}/<class>/*.png)')
    files = [(f, c) for c, name in enumerate(classes) for f in sorted((folder / name).iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise ValueError(f'{folder} has class folders but no images ({", ".join(IMAGE_SUFFIXES)})')
    cache = _cache_path(folder, files, size)
    if cache.exists():
        z = np.load(cache)
        return z['x'], z['y'], classes
    modes, images = set(), []
    for f, _ in files:
        try:
            with Image.open(f) as im:
                im.load()
                modes.add('L' if im.mode in ('L', '1', 'I;16', 'I') else 'RGB')
                images.append(im.copy())
        except (UnidentifiedImageError, OSError) as e:
            raise ValueError(f'{f} is not an image this builder can read ({e})')
    mode = 'L' if modes == {'L'} else 'RGB'
    arrays = []
    for (f, _), im in zip(files, images):
        im = im.convert(mode)
        if size:
            side = min(im.size)
            left, top = (im.size[0] - side) // 2, (im.size[1] - side) // 2
            im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
        elif im.size[0] != im.size[1] or (arrays and im.size[0] != arrays[0].shape[0]):
            raise ValueError(f'{f} is {im.size[0]} x {im.size[1]}: images of one square size, or give --size=N to resize them')
        arrays.append(np.asarray(im, np.uint8))
    x = np.stack(arrays)
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
    y = np.array([c for _, c in files], np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, x=np.ascontiguousarray(x), y=y)
    return np.ascontiguousarray(x), y, classes


def _cache_path(folder, files, size):
    """Decoded images are kept in $POE_CACHE_DIR (default experts/checkpoints/data-cache), keyed by the files (names,
    sizes, times) and the size."""
    h = hashlib.sha256(json.dumps([str(folder.resolve()), size] + [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f, _ in files]).encode())
    root = Path(os.environ.get('POE_CACHE_DIR') or data.REPO_ROOT / 'experts' / 'checkpoints' / 'data-cache')
    return root / f'{folder.name}-{h.hexdigest()[:16]}.npz'
