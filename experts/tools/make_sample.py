"""The built-in check's image sample: the first N CIFAR-100 *test* images of every class.

  /usr/bin/python3 experts/tools/make_sample.py            # writes public/samples/cifar100-test-sample.{bin,json}

The .bin holds the images as uint8 NHWC RGB, 32 x 32, one after another; the .json their labels.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--per-class', type=int, default=20)
    p.add_argument('--out', type=Path, default=data.REPO_ROOT / 'public' / 'samples')
    p.add_argument('--data', default=None)
    args = p.parse_args(argv)
    x, fine, _ = data.load_split('test', args.data)
    fine_names, _ = data.label_names(args.data)
    idx = np.concatenate([np.flatnonzero(fine == c)[:args.per_class] for c in range(100)])
    images = np.ascontiguousarray(x[idx].transpose(0, 2, 3, 1))
    args.out.mkdir(parents=True, exist_ok=True)
    blob = images.tobytes()
    (args.out / 'cifar100-test-sample.bin').write_bytes(blob)
    meta = {'about': f'first {args.per_class} CIFAR-100 test images of each class, uint8 NHWC RGB 32x32',
            'count': int(len(idx)), 'sizePx': 32, 'file': 'cifar100-test-sample.bin', 'bytes': len(blob),
            'sha256': hashlib.sha256(blob).hexdigest(), 'classNames': fine_names,
            'labels': fine[idx].tolist(), 'testIndices': idx.tolist()}
    (args.out / 'cifar100-test-sample.json').write_text(json.dumps(meta))
    print(f'{len(idx)} images -> {args.out}')


if __name__ == '__main__':
    main(sys.argv[1:])
