"""PyTorch inference peer for `npm run bench`'s ratio section: the consolidated model of the first n
experts (as bench_inference.py builds it), kept loaded and idle between timed blocks it is asked for.

  /usr/bin/python3 experts/tools/bench_peer.py --pool public/pools/cifar100 --experts 5

Reads one JSON request a line on stdin, {"batch": 32, "threads": 2, "ms": 600}, and answers each with
{"images": N, "seconds": S, "threads": T} after one untimed warm-up call. Prints {"ready": ...} first.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import consolidated  # noqa: E402


def block(model, batch, threads, ms):
    torch.set_num_threads(threads)
    x = torch.rand(batch, 3, 32, 32) * 255
    with torch.inference_mode():
        model(x)
        k, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < ms / 1000:
            model(x)
            k += 1
        seconds = time.perf_counter() - t0
    return {'images': k * batch, 'seconds': seconds, 'threads': torch.get_num_threads()}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--pool', type=Path, required=True)
    p.add_argument('--experts', type=int, default=5)
    args = p.parse_args(argv)
    model = consolidated(args.pool, args.experts)
    print(json.dumps({'ready': f'PyTorch {torch.__version__} CPU (inference_mode)'}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        print(json.dumps(block(model, int(req['batch']), int(req['threads']), float(req['ms']))), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
