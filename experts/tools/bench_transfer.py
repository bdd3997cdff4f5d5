"""Per-query training baseline for the bench: Transfer (poe/transfer.py, the recipe and tuned
hyperparameters of experts/RESULTS.md) on the query's classes, timed until its test accuracy reaches
a target (the consolidated model's) or the time budget runs out. The library comes from the pool's files.

  /usr/bin/python3 experts/tools/bench_transfer.py --pool public/pools/cifar100 --query people,vehicles_1 --target 0.7 --budget-s 300

Prints one JSON object. The time counts everything from the first training batch on, test evaluations included.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data, transfer  # noqa: E402
from poe.tfjs_import import read_part  # noqa: E402
from poe.runtime import predict  # noqa: E402
from poe.wrn import library_from_state_dict  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--pool', type=Path, required=True)
    p.add_argument('--query', required=True, help='comma-separated expert (superclass) names')
    p.add_argument('--target', type=float, required=True, help='test accuracy to reach')
    p.add_argument('--budget-s', type=float, default=300)
    p.add_argument('--lr', type=float, help='default: the tuned value in experts/RESULTS.json')
    p.add_argument('--weight-decay', type=float, help='default: the tuned value in experts/RESULTS.json')
    p.add_argument('--epochs', type=int, help=f'one-cycle length (default: as tuned, {transfer.EPOCHS})')
    p.add_argument('--data', default=None)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    given = {k: v for k, v in (('lr', args.lr), ('weight_decay', args.weight_decay), ('epochs', args.epochs)) if v is not None}
    hp = {'epochs': transfer.EPOCHS, **({} if 'lr' in given and 'weight_decay' in given else transfer.tuned_hyperparameters()), **given}
    manifest = json.loads((args.pool / 'pool.json').read_text())
    by_name = {e['name']: e for e in manifest['experts']}
    unknown = [q for q in args.query.split(',') if q not in by_name]
    if unknown:
        raise SystemExit(f'not experts of {args.pool}: {", ".join(unknown)}')
    classes = [c for q in args.query.split(',') for c in by_name[q]['classes']]
    xtr, ytr, _ = data.load_split('train', args.data)
    xte, yte, _ = data.load_split('test', args.data)
    lib = library_from_state_dict(read_part(args.pool / 'library')).eval()
    mte, tte = transfer.query_targets(classes, yte)
    with torch.no_grad():
        fte = predict(lib, xte[mte], torch.device('cpu'))
    history, reached = [], None
    t0 = time.time()

    def after_epoch(epoch, head):
        nonlocal reached
        acc = transfer.head_top1(head, fte, tte)
        history.append({'epoch': epoch, 'seconds': time.time() - t0, 'test_top1': acc})
        if acc >= args.target and reached is None:
            reached = time.time() - t0
        return reached is not None or time.time() - t0 > args.budget_s

    transfer.train(lib, xtr, ytr, classes, hp, hp['epochs'], args.seed, after_epoch)
    print(json.dumps({'framework': f'PyTorch {torch.__version__} ({torch.get_num_threads()} threads)', 'recipe': 'Transfer (experts/poe/transfer.py)',
                      'hyperparameters': hp, 'query': args.query, 'classes': len(classes),
                      'trainImages': int(np.isin(ytr, classes).sum()), 'target': args.target, 'reachedTargetSeconds': reached,
                      'budgetSeconds': args.budget_s, 'best': max(h['test_top1'] for h in history), 'epochs': len(history),
                      'seconds': time.time() - t0, 'history': history}))


if __name__ == '__main__':
    main(sys.argv[1:])
