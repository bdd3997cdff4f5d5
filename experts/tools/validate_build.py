"""The validation-split figures that settings are chosen on, for builds side by side: each expert's top-1 among
its own classes (mean), the consolidated model's mean top-1 over all combinations of the six superclasses
(n = 2..6) beside the oracle on the same classes, how the six-superclass query's errors split (the right expert
losing to another, or the wrong class winning inside the right expert), all experts at once (the least noisy
single figure), and random n-superclass queries drawn from all 20. --split=test only reports.

  /usr/bin/python3 experts/tools/validate_build.py --build experts/checkpoints/quick
  /usr/bin/python3 experts/tools/validate_build.py --build public/pools/cifar100 --build experts/checkpoints/full

A build is a build folder, or a pool folder with its oracle (--oracle; the built-in pool's by default).
"""
import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data, evaluate, runtime  # noqa: E402

WIDE_QUERIES = 400  # random n-superclass queries drawn from all 20, per n: every image of the split takes part


def validate(folder, oracle_file, x, y):
    oracle_path, lib, experts, tasks = evaluate.load_any(folder, oracle_file)
    oracle, _ = evaluate.load_oracle(oracle_path)
    oracle_logits = runtime.predict(runtime.inference_model(oracle, torch.device('cpu'), 'fp32'), x, torch.device('cpu')).numpy()
    logits = evaluate.expert_logits(lib, experts, x)
    q = lambda query: evaluate.query_eval(list(query), tasks, logits, oracle_logits, y)
    six = {n: evaluate.summarize([q(c) for c in itertools.combinations(evaluate.SIX, n)]) for n in range(2, 7)}
    rng = np.random.default_rng(0)  # the same queries for every build
    names = sorted(experts)
    wide = {n: evaluate.summarize([q([names[i] for i in rng.choice(len(names), n, replace=False)]) for _ in range(WIDE_QUERIES)])
            for n in range(2, 7)}
    return {'task_mean': 100 * float(np.mean(list(evaluate.task_top1(logits, tasks, y).values()))), 'six': six, 'wide': wide,
            'all': 100 * evaluate.all_top1(logits, tasks, y), **evaluate.error_split(evaluate.SIX, tasks, logits, y),
            'oracle': evaluate.error_split(evaluate.SIX, tasks, {t: oracle_logits[:, c] for t, c in tasks.items()}, y)}


def cells(by_size):
    return ' | '.join(f'{s["mean"]:.2f} ({s["oracle_mean"]:.1f})' for s in by_size.values())


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', type=Path, action='append', required=True, help='build or pool folder; repeat to compare')
    p.add_argument('--oracle', type=Path, help="a pool's oracle.pt (default: the built-in pool's)")
    p.add_argument('--split', choices=('val', 'test'), default='val', help='val to choose settings on, test to report')
    p.add_argument('--data', default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    x, y, _ = data.load_split(args.split, args.data)
    print(f'{args.split} split, {len(y)} images')
    print(f'| build | expert {args.split} top-1 mean % | ' + ' | '.join(f'n={n} % (oracle)' for n in range(2, 7))
          + ' | n=6: right expert % (oracle) | n=6: within expert % (oracle) | all experts at once % |')
    print('|---|---|' + '---|' * 8)
    wide = []
    for b in args.build:
        r = validate(runtime.repo_path(b) if not b.exists() else b, args.oracle, x, y)
        wide.append(f'| {b.name} | {cells(r["wide"])} |')
        print(f'| {b.name} | {r["task_mean"]:.2f} | {cells(r["six"])} | {r["right_expert"]:.2f} ({r["oracle"]["right_expert"]:.1f}) '
              f'| {r["within_expert"]:.2f} ({r["oracle"]["within_expert"]:.1f}) | {r["all"]:.2f} |', flush=True)
    print(f'\nThe same builds on {WIDE_QUERIES} random n-superclass queries from all 20 (seeded, the same for every build), mean top-1 % (oracle):')
    print('| build | ' + ' | '.join(f'n={n} % (oracle)' for n in range(2, 7)) + ' |')
    print('|---|' + '---|' * 5)
    print('\n'.join(wide), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
