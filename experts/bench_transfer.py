"""Per-query training baseline in PyTorch: the pool's frozen library plus a new expert-shaped head
trained with cross-entropy on the query's classes (the paper's "Transfer"), timed until it reaches a
target test accuracy (the consolidated model's) or the time budget runs out.

  /usr/bin/python3 experts/bench_transfer.py --pool public/pools/quick --query people,vehicles_1 --target 0.5 --budget-s 120

Prints one JSON object. Training time includes computing the frozen library features once.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poe import data  # noqa: E402
from poe.tfjs_import import read_part  # noqa: E402
from poe.wrn import Expert, library_from_state_dict  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--pool', type=Path, required=True)
    p.add_argument('--query', required=True, help='comma-separated expert (superclass) names')
    p.add_argument('--target', type=float, required=True, help='test accuracy to reach')
    p.add_argument('--budget-s', type=float, default=120)
    p.add_argument('--data', default=None)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(args.seed)
    manifest = json.loads((args.pool / 'pool.json').read_text())
    by_name = {e['name']: e for e in manifest['experts']}
    classes = [c for q in args.query.split(',') for c in by_name[q]['classes']]
    xtr, ytr, _ = data.load_split('train', args.data)
    xte, yte, _ = data.load_split('test', args.data)
    remap = {c: i for i, c in enumerate(classes)}
    mtr, mte = np.isin(ytr, classes), np.isin(yte, classes)
    ytr_q = torch.tensor([remap[c] for c in ytr[mtr]])
    yte_q = torch.tensor([remap[c] for c in yte[mte]])
    lib = library_from_state_dict(read_part(args.pool / 'library')).eval()
    t0 = time.time()
    with torch.no_grad():
        ftr = torch.cat([lib(data.normalize(xtr[mtr][i:i + 500])) for i in range(0, int(mtr.sum()), 500)])
        fte = torch.cat([lib(data.normalize(xte[mte][i:i + 500])) for i in range(0, int(mte.sum()), 500)])
    feature_s = time.time() - t0
    head = Expert(ftr.shape[1], 16, len(classes))
    opt = torch.optim.SGD(head.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    history, reached = [], None
    epoch = 0
    while time.time() - t0 < args.budget_s:
        head.train()
        perm = torch.randperm(len(ftr))
        for i in range(0, len(ftr), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(head(ftr[idx]), ytr_q[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        epoch += 1
        head.eval()
        with torch.no_grad():
            acc = float((head(fte).argmax(1) == yte_q).float().mean())
        history.append({'epoch': epoch, 'seconds': time.time() - t0, 'test_top1': acc})
        if acc >= args.target:
            reached = time.time() - t0
            break
    print(json.dumps({'framework': f'PyTorch {torch.__version__} ({torch.get_num_threads()} threads)', 'query': args.query,
                      'classes': len(classes), 'trainImages': int(mtr.sum()), 'target': args.target,
                      'reachedTargetSeconds': reached, 'budgetSeconds': args.budget_s, 'featureSeconds': feature_s,
                      'best': max(h['test_top1'] for h in history) if history else None, 'epochs': epoch,
                      'seconds': time.time() - t0, 'history': history}))


if __name__ == '__main__':
    main(sys.argv[1:])
