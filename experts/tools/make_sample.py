"""A pool's own sample images: the first N *test* images of every class, which the app's built-in check measures
on, custom classes calibrate against, and the class picker shows one of (class-thumbs.png).

  /usr/bin/python3 experts/tools/make_sample.py --pool public/pools/cifar100                    # CIFAR-100, 20 a class
  /usr/bin/python3 experts/tools/make_sample.py --pool public/pools/fashion-mnist \\
      --data /usr/share/datasets/fashion-mnist --per-class 50

Reads any dataset the builder reads (--data: CIFAR-100 binary, an image folder, IDX files; --size resizes an image
folder like the build did) and matches its classes to the pool's by name (--classes names them where the data does
not). Writes into the pool folder:
  sample.bin          the images, uint8 NHWC (RGB or grey, as the pool's input), one after another
  sample.json         count, size, channels, the bin's bytes and SHA-256, the pool's class names and each image's class
  class-thumbs.png    one image per class, 10 a row, and class-thumbs.json to find them
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data, datasets  # noqa: E402

COLUMNS = 10


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--pool', type=Path, required=True, help='pool folder (holds pool.json); the sample is written there')
    p.add_argument('--data', default=None, help='dataset folder (default: $POE_DATA_DIR or the shared CIFAR-100)')
    p.add_argument('--size', type=int, default=0)
    p.add_argument('--classes', default='', help='class names, comma-separated, for data that names none')
    p.add_argument('--per-class', type=int, default=20)
    args = p.parse_args(argv)
    manifest_path = args.pool / 'pool.json'
    if not manifest_path.exists():
        raise SystemExit(f'error: {manifest_path} not found: --pool takes a built pool folder')
    manifest = json.loads(manifest_path.read_text())
    try:
        ds = datasets.open_dataset(args.data, args.size, args.classes)
    except (data.DataMissing, ValueError) as e:
        raise SystemExit(f'error: {e}')
    if ds.test is None:
        raise SystemExit(f'error: {ds.root} has no test split; the sample is drawn from test images only')
    spec = manifest['input']
    if ds.size != spec['sizePx'] or ('L' if ds.channels == 1 else 'RGB') != spec.get('channels', 'RGB'):
        raise SystemExit(f'error: {ds.root} holds {ds.size}-pixel {"grey" if ds.channels == 1 else "RGB"} images; the pool takes '
                         f'{spec["sizePx"]}-pixel {spec.get("channels", "RGB")} ones (give --size, or the data the pool was built from)')
    pool_index = {c['name']: c['index'] for c in manifest['classes']}
    missing = [n for n in pool_index if n not in ds.class_names]
    if missing:
        raise SystemExit(f'error: the pool\'s classes {", ".join(missing[:5])} are not in {ds.root} ({", ".join(ds.class_names[:5])}, ...)')
    x, y = ds.test
    order = [ds.class_names.index(n) for n in sorted(pool_index, key=pool_index.get)]
    idx = np.concatenate([np.flatnonzero(y == c)[:args.per_class] for c in order])
    images = np.ascontiguousarray(x[idx].transpose(0, 2, 3, 1))
    labels = [pool_index[ds.class_names[c]] for c in y[idx]]
    blob = images.tobytes()
    (args.pool / 'sample.bin').write_bytes(blob)
    names = [c['name'] for c in sorted(manifest['classes'], key=lambda c: c['index'])]
    meta = {'format': 'poe-sample', 'about': f'the first {args.per_class} test images of each class of {ds.root.name}',
            'count': int(len(idx)), 'sizePx': ds.size, 'channels': spec.get('channels', 'RGB'), 'file': 'sample.bin',
            'bytes': len(blob), 'sha256': hashlib.sha256(blob).hexdigest(), 'classNames': names, 'labels': labels,
            'testIndices': idx.tolist()}
    (args.pool / 'sample.json').write_text(json.dumps(meta))
    write_thumbs(args.pool, images, labels, names)
    print(f'{len(idx)} test images of {len(order)} classes, {len(blob):,} bytes -> {args.pool}/sample.bin, class-thumbs.png')


def write_thumbs(folder, images, labels, names):
    """One tile per class (its first sample image) in the pool's class order, for the class picker."""
    n, s = len(names), images.shape[1]
    rows = -(-n // COLUMNS)
    sheet = np.zeros((rows * s, COLUMNS * s, 3), np.uint8)
    for c in range(n):
        first = labels.index(c) if c in labels else None
        if first is None:
            continue
        tile = images[first]
        r, q = divmod(c, COLUMNS)
        sheet[r * s:(r + 1) * s, q * s:(q + 1) * s] = tile if tile.shape[2] == 3 else np.repeat(tile, 3, axis=2)
    Image.fromarray(sheet).save(folder / 'class-thumbs.png', optimize=True)
    (folder / 'class-thumbs.json').write_text(json.dumps({'file': 'class-thumbs.png', 'tilePx': int(s), 'columns': COLUMNS, 'classes': names}) + '\n')


if __name__ == '__main__':
    main(sys.argv[1:])
