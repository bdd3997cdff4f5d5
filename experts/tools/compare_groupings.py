"""How well a grouping of classes into primitive tasks suits an oracle, before any expert is trained: the share of
the oracle's errors that fall between tasks (an expert pool can only make them right by comparing experts'
logits), and the oracle's own confusion mass between tasks. Compares the dataset's hierarchy with --tasks=auto:K
(formed on the validation split, as the builder forms it) on validation, then on test.

  /usr/bin/python3 experts/tools/compare_groupings.py --k 20      # CIFAR-100 and the built-in pool's oracle

The oracle's confusions are a proxy. With --builds, the experts trained under each grouping (build folders from the
same oracle and library, differing only in --tasks) are measured instead, as the app consolidates them: mean top-1
and cross-expert share of errors over random class-level queries, on validation, then test:

  /usr/bin/python3 experts/tools/compare_groupings.py --builds hierarchy=experts/checkpoints/g-hier auto:20=experts/checkpoints/g-auto
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from poe import datasets, evaluate, grouping, runtime  # noqa: E402


def between_tasks(probs, y, groups):
    """(share of the oracle's errors whose predicted class is in another task, its confusion mass between tasks)."""
    owner = np.empty(probs.shape[1], int)
    for g, members in enumerate(groups.values()):
        owner[members] = g
    pred = probs.argmax(1)
    wrong = pred != y
    return float((owner[pred[wrong]] != owner[y[wrong]]).mean()), grouping.cross_expert_share(grouping.confusion(probs, y, probs.shape[1]), groups)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--k', type=int, default=20, help='tasks for auto:K')
    p.add_argument('--oracle', type=Path, help="an oracle.pt (default: the built-in pool's, experts/shipped.json)")
    p.add_argument('--data', default=None)
    p.add_argument('--builds', nargs='+', metavar='NAME=FOLDER', help='build folders to compare by their trained experts')
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    ds = datasets.open_dataset(args.data)
    if args.builds:
        return compare_builds(ds, args.builds)
    oracle, _ = evaluate.load_oracle(args.oracle or evaluate.shipped_oracle())
    oracle = runtime.inference_model(oracle, torch.device('cpu'), 'fp32')
    probs = {s: torch.softmax(runtime.predict(oracle, getattr(ds, s)[0], torch.device('cpu'), stats=(ds.mean, ds.std)), 1).numpy()
             for s in ('val', 'test')}
    candidates = {f'auto:{args.k}': grouping.balanced_groups(grouping.confusion(probs['val'], ds.val[1], len(ds.class_names)), args.k, ds.class_names)}
    if ds.groups:
        candidates = {'hierarchy': ds.groups, **candidates}
    print(f'| grouping | tasks (sizes) | split | oracle errors between tasks % | oracle confusion between tasks % |')
    print('|---|---|---|---|---|')
    for name, groups in candidates.items():
        sizes = sorted({len(g) for g in groups.values()})
        for split in ('val', 'test'):
            errors, mass = between_tasks(probs[split], getattr(ds, split)[1], groups)
            print(f'| {name} | {len(groups)} ({"/".join(map(str, sizes))}) | {split} | {100 * errors:.1f} | {100 * mass:.1f} |', flush=True)
    auto = candidates[f'auto:{args.k}']
    print('\nauto groups: ' + '; '.join(', '.join(ds.class_names[c] for c in g) for g in list(auto.values())[:5]) + ('; ...' if len(auto) > 5 else ''))


def compare_builds(ds, specs):
    from pool_results import class_queries, grouping_figures  # noqa: E402 (a sibling tool)
    queries = class_queries(len(ds.class_names))
    sizes = list(queries)
    print(f'{len(next(iter(queries.values())))} random queries of k classes each (seed 0); mean top-1 % (cross-expert share of errors %)\n')
    print('| build | tasks | ' + ' | '.join(f'k={k} val | k={k} test' for k in sizes) + ' |')
    print('|---|---|' + '---|---|' * len(sizes))
    for spec in specs:
        name, _, folder = spec.partition('=')
        _, lib, experts, tasks = evaluate.load_build(runtime.repo_path(folder))
        val = grouping_figures(lib, experts, tasks, ds.val, (ds.mean, ds.std), queries)
        test = grouping_figures(lib, experts, tasks, ds.test, (ds.mean, ds.std), queries)
        print(f'| {name} | {len(tasks)} | ' + ' | '.join(f'{val[k]["top1"]:.1f} ({val[k]["cross"]:.0f}) | {test[k]["top1"]:.1f} ({test[k]["cross"]:.0f})'
                                                        for k in sizes) + ' |', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
