"""The one epoch loop every stage trains with: SGD with a one-cycle schedule, a checkpoint after every epoch and
resume from it, a time budget, and progress lines with the time left."""
import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from . import checkpoint, runtime


class BudgetSpent(Exception):
    pass


@dataclass
class Job:
    name: str            # the stage; its checkpoint is OUT/<name>.ckpt
    modules: dict        # the nn.Modules trained (saved in each checkpoint)
    opt: torch.optim.Optimizer
    step: Callable       # step(idx, gen): one optimisation step on the training images idx; returns the loss
    evaluate: Callable   # () -> dict of validation metrics, after each epoch
    epochs: int
    batch: int
    lr: float
    seed: int
    settings: dict       # the stage's recipe: a checkpoint resumes only under the same


def sgd(params, lr, weight_decay):
    """Nesterov SGD, weight decay on weights only (not on biases and batch-norm parameters)."""
    decay, no_decay = [], []
    for p in params:
        (decay if p.ndim > 1 else no_decay).append(p)
    return torch.optim.SGD([{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
                           lr=lr, momentum=0.9, nesterov=True)


def lr_at(step, total, peak):
    """One-cycle: linear warm-up over the first 15 % of the steps, then linear decay to 0."""
    f = step / max(1, total)
    return peak * (f / 0.15 if f < 0.15 else max(0.0, (1 - f) / 0.85))


def run(job, n_images, folder, time_left=lambda: math.inf, after_epoch=lambda: None, compact=False):
    """Trains job for its epochs over n_images, resuming from folder/<name>.ckpt. Stops with BudgetSpent before an
    epoch that would overrun time_left(); after_epoch() runs after each checkpoint (packing it for a device run).
    compact keeps the momentum in bf16 in checkpoints. Returns (history, wall seconds across all resumptions)."""
    path = folder / f'{job.name}.ckpt'
    gen = torch.Generator().manual_seed(job.seed)
    spe = math.ceil(n_images / job.batch)
    start, history, wall = 0, [], 0.0
    ck = checkpoint.load(path)
    if ck is not None:
        if ck['settings'] != job.settings:
            changed = sorted(k for k in {**ck['settings'], **job.settings} if ck['settings'].get(k) != job.settings.get(k))
            raise SystemExit(f'error: {path} was made with other settings ({", ".join(changed)}); '
                             f'delete it or use another --out to start over')
        for k, m in job.modules.items():
            m.load_state_dict(ck['modules'][k])
        job.opt.load_state_dict(checkpoint.momentum_to(ck['opt'], torch.float32))
        gen.set_state(ck['gen'])
        start, history, wall = ck['epoch'], ck['history'], ck['wall_s']
        runtime.log(f'[{job.name}] resuming after epoch {start}/{job.epochs}')
    progress = Progress(job.name, job.epochs * spe, start * spe)
    last = None
    for epoch in range(start, job.epochs):
        if last is not None and last * 1.1 > time_left():
            raise BudgetSpent(f'[{job.name}] stopping before epoch {epoch + 1}/{job.epochs}: {time_left():.0f} s of the budget left, '
                              f'an epoch takes {last:.0f} s')
        t0 = time.time()
        for m in job.modules.values():
            m.train()
        perm = torch.randperm(n_images, generator=gen)
        total = 0.0
        for i in range(spe):
            lr = lr_at(epoch * spe + i, job.epochs * spe, job.lr)
            for g in job.opt.param_groups:
                g['lr'] = lr
            total = total + job.step(perm[i * job.batch:(i + 1) * job.batch], gen).detach()
            progress.step(lambda: f'epoch {epoch + 1}/{job.epochs} loss {float(total) / (i + 1):.4f} lr {lr:.4f}')
        for m in job.modules.values():
            m.eval()
        metrics = {'epoch': epoch + 1, 'loss': float(total) / spe, **(job.evaluate() if runtime.is_main() else {})}
        last = time.time() - t0
        wall += last
        history.append(metrics)
        runtime.log(f'[{job.name}] epoch {epoch + 1}/{job.epochs} done in {last:.1f}s: '
                    + ', '.join(f'{k} {v:.4f}' if isinstance(v, float) else f'{k} {v}' for k, v in metrics.items() if not isinstance(v, dict)))
        if runtime.is_main():
            opt = job.opt.state_dict()
            checkpoint.save(path, settings=job.settings, epoch=epoch + 1, history=history, wall_s=wall, gen=gen.get_state(),
                            opt=checkpoint.momentum_to(opt, torch.bfloat16) if compact else opt,
                            modules={k: m.state_dict() for k, m in job.modules.items()})
            after_epoch()
        runtime.barrier()
    for m in job.modules.values():
        m.eval()  # also after a resume with no epoch left, where the loop above never ran
    return history, wall


class Progress:
    """A line every 30 seconds with the rate and the time left (the message is built only then: it may sync a GPU)."""

    def __init__(self, name, total_steps, done_steps=0, every_s=30):
        self.name, self.total, self.done, self.every = name, total_steps, done_steps, every_s
        self.t0, self.start_done, self.last = time.time(), done_steps, time.time()

    def step(self, message):
        self.done += 1
        now = time.time()
        if now - self.last > self.every and runtime.is_main():
            self.last = now
            rate = (self.done - self.start_done) / max(1e-9, now - self.t0)
            left = (self.total - self.done) / max(rate, 1e-9)
            print(f'[{self.name}] step {self.done}/{self.total} ({100 * self.done / self.total:.0f} %) {message()} | '
                  f'{rate:.2f} steps/s, {_fmt(left)} left', flush=True)


def _fmt(s):
    s = int(s)
    return f'{s // 3600}h{s % 3600 // 60:02d}m' if s >= 3600 else f'{s // 60}m{s % 60:02d}s'
