""""Transfer", the per-query training baseline: the pool's frozen library plus a new expert-shaped head
trained with cross-entropy on the query's training images, augmented (crop + flip) and passed through
the library every batch, SGD + one-cycle over EPOCHS epochs. Its learning rate and weight decay are
chosen by validation top-1 (tune); experts/RESULTS.json keeps the choice, which the bench reuses
(tuned_hyperparameters). One recipe for RESULTS.md, the bench and the README."""
import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data
from .wrn import Expert

EPOCHS = 15
BATCH = 128
LR_GRID = (0.05, 0.1, 0.3, 0.6)
WD_GRID = (5e-3, 2e-2)
RESULTS_JSON = Path(__file__).resolve().parent.parent / 'RESULTS.json'


def train_head(inputs, targets, loss_fn, n_out, epochs, lr, wd, seed, lib=None, after_epoch=None, stats=(data.MEAN, data.STD)):
    """An expert-shaped head trained with SGD + one-cycle. With lib, inputs are uint8 images that are
    augmented and passed through the frozen library every batch; otherwise precomputed features.
    after_epoch(epoch, head) may return True to stop early (the head is in eval mode during the call). stats: the
    dataset's (mean, std)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    head = Expert(lib.out_channels if lib is not None else inputs.shape[1], 16, n_out)
    opt = torch.optim.SGD(head.parameters(), lr=lr, momentum=0.9, weight_decay=wd, nesterov=True)
    steps = epochs * ((len(inputs) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.15)
    for epoch in range(epochs):
        head.train()
        perm = torch.randperm(len(inputs), generator=gen)
        for s in range(0, len(inputs), BATCH):
            idx = perm[s:s + BATCH]
            if lib is None:
                feats = inputs[idx]
            else:
                with torch.no_grad():
                    feats = lib(data.normalize(data.augment(inputs[idx.numpy()], gen), stats))
            loss = loss_fn(head(feats), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        head.eval()
        if after_epoch is not None and after_epoch(epoch + 1, head):
            break
    return head.eval()


def query_targets(classes, y):
    """Which of the labels y belong to the query's classes, and their index among them."""
    mask = np.isin(y, classes)
    remap = {c: i for i, c in enumerate(classes)}
    return mask, torch.tensor([remap[c] for c in y[mask]])


def head_top1(head, feats, truth):
    with torch.no_grad():
        return float((head(feats).argmax(1) == truth).float().mean())


def train(lib, x, y, classes, hp, epochs=EPOCHS, seed=0, after_epoch=None, stats=(data.MEAN, data.STD)):
    """Transfer for one query: the head on the training images of `classes`, with hyperparameters hp."""
    mask, targets = query_targets(classes, y)
    return train_head(x[mask], targets, F.cross_entropy, len(classes), epochs, hp['lr'], hp['weight_decay'], seed, lib, after_epoch, stats)


def tune(lib, xtr, ytr, lib_val, yval, classes, query, epochs=EPOCHS, log=print, stats=(data.MEAN, data.STD)):
    """The learning rate and weight decay with the best validation top-1 on one query (lib_val: library features)."""
    mval, tval = query_targets(classes, yval)
    scores = {}
    for lr, wd in itertools.product(LR_GRID, WD_GRID):
        h = train(lib, xtr, ytr, classes, {'lr': lr, 'weight_decay': wd}, epochs, stats=stats)
        scores[(lr, wd)] = head_top1(h, lib_val[mval], tval)
        log(f'  tune transfer on {query}: lr {lr} wd {wd}: val top-1 {scores[(lr, wd)]:.3f}')
    best = max(scores, key=scores.get)
    return {'lr': best[0], 'weight_decay': best[1], 'epochs': epochs, 'query': query,
            'val_top1': {f'lr={k[0]} wd={k[1]}': v for k, v in scores.items()}}


def tuned_hyperparameters(path=RESULTS_JSON):
    """The choice recorded by experts/results.py for the shipped pool."""
    try:
        hp = json.loads(Path(path).read_text())['transfer_tuning']
    except (OSError, KeyError, ValueError) as e:
        raise SystemExit(f'no Transfer tuning in {path} ({e}): run experts/results.py, or pass --lr and --weight-decay')
    return {'lr': hp['lr'], 'weight_decay': hp['weight_decay'], 'epochs': hp.get('epochs', EPOCHS)}
