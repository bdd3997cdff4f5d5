"""Inference peer for `npm run bench`: the consolidated model rebuilt in PyTorch from the pool's own
files (library + the first n experts, logits concatenated), timed on the CPU under
torch.inference_mode at batch 1 and 32, with as many threads as the machine has cores.

  /usr/bin/python3 experts/tools/bench_inference.py --pool public/pools/cifar100 --experts 1,5,20 --batches 1,32

Input: float32 N x 3 x 32 x 32 raw pixels, normalised inside the timed model as in the TF.js one.
Prints one JSON object: images per second (median, min, max over rounds) per (experts, batch).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data  # noqa: E402
from poe.tfjs_import import read_part  # noqa: E402
from poe.wrn import expert_from_state_dict, library_from_state_dict  # noqa: E402


class Consolidated(torch.nn.Module):
    def __init__(self, library, experts):
        super().__init__()
        self.library = library
        self.experts = torch.nn.ModuleList(experts)
        self.register_buffer('mean', torch.tensor(data.MEAN).view(1, 3, 1, 1) * 255)
        self.register_buffer('std', torch.tensor(data.STD).view(1, 3, 1, 1) * 255)

    def forward(self, pixels):
        feats = self.library((pixels - self.mean) / self.std)
        return torch.cat([e(feats) for e in self.experts], 1)


def read_manifest(pool):
    manifest_path = pool / 'pool.json'
    if not manifest_path.exists():
        sys.exit(f'error: no pool manifest at {manifest_path}')
    return json.loads(manifest_path.read_text())


def consolidated(pool, n):
    """The library and the first n experts of the pool folder, rebuilt in PyTorch from the pool's own files."""
    manifest = read_manifest(pool)
    folder = lambda part: pool / Path(part['files']['model']['path']).parent
    library = library_from_state_dict(read_part(folder(manifest['library']))).eval()
    experts = [expert_from_state_dict(read_part(folder(e))).eval() for e in manifest['experts'][:n]]
    return Consolidated(library, experts).eval()


def images_per_second(model, batch, rounds=5, seconds=0.4):
    x = torch.rand(batch, 3, 32, 32) * 255
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        rates = []
        for _ in range(rounds):
            k, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                model(x)
                k += 1
            rates.append(k * batch / (time.perf_counter() - t0))
    rates.sort()
    return {'median': rates[len(rates) // 2], 'min': rates[0], 'max': rates[-1], 'runs': len(rates)}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--pool', type=Path, required=True)
    p.add_argument('--experts', default='1,5,20', help='expert counts n: the first n experts of the manifest')
    p.add_argument('--batches', default='1,32')
    p.add_argument('--rounds', type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    total = len(read_manifest(args.pool)['experts'])
    rows = []
    for n in [int(v) for v in args.experts.split(',') if int(v) <= total]:
        model = consolidated(args.pool, n)
        for batch in [int(b) for b in args.batches.split(',')]:
            rows.append({'experts': n, 'batch': batch, 'imagesPerSecond': images_per_second(model, batch, args.rounds)})
    print(json.dumps({'framework': f'PyTorch {torch.__version__} CPU ({torch.get_num_threads()} threads, inference_mode)', 'throughput': rows}))


if __name__ == '__main__':
    main(sys.argv[1:])
