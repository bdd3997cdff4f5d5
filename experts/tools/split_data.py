"""Split the CIFAR-100 training files into parts small enough for a device run to carry (64 MiB a call,
the working tree included), and join them back there, checked by SHA-256.

  /usr/bin/python3 experts/tools/split_data.py --out .gpu-data --part-mib 48     # here: parts + parts.json
  python3 experts/build.py gpu --data_parts=/tmp/gd ...                          # there: joined and checked (poe/transport.py)

Only the training files and the label names travel: the GPU build needs no test images.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data  # noqa: E402

WANTED = ('train*.bin.gz', 'train.bin', 'fine_label_names.txt', 'coarse_label_names.txt')


def split(src, out, part_bytes):
    files = sorted({p for pattern in WANTED for p in src.glob(pattern)})
    if not any(p.name.startswith('train') for p in files):
        raise SystemExit(f'error: no training files in {src}')
    blob = b''.join(p.read_bytes() for p in files)
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for i in range(0, len(blob), part_bytes):
        name = f'part{i // part_bytes:02d}.bin'
        (out / name).write_bytes(blob[i:i + part_bytes])
        parts.append({'name': name, 'bytes': min(part_bytes, len(blob) - i)})
    manifest = {'files': [{'name': p.name, 'bytes': p.stat().st_size, 'sha256': hashlib.sha256(p.read_bytes()).hexdigest()} for p in files],
                'parts': parts}
    (out / 'parts.json').write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=None, help='CIFAR-100 folder (default $POE_DATA_DIR or ../shared/datasets/cifar-100-binary)')
    p.add_argument('--out', type=Path, required=True)
    p.add_argument('--part-mib', type=float, default=48)
    a = p.parse_args(argv)
    m = split(data.data_dir(a.data), a.out, int(a.part_mib * 2 ** 20))
    print(f'{len(m["parts"])} parts of at most {a.part_mib} MiB in {a.out}: {", ".join(f["name"] for f in m["files"])}')


if __name__ == '__main__':
    main(sys.argv[1:])
