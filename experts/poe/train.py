"""Shared training machinery: threads, seeds, SGD with a schedule, checkpoint/resume, progress with ETA."""
import copy
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils import mkldnn

from . import data


def out_dir(cfg):
    """The stage output folder; a relative --out is taken from the repository root."""
    p = Path(cfg['out'])
    return p if p.is_absolute() else data.REPO_ROOT / p


def world():
    """(rank, world size): set by torchrun for distributed data parallel training, else (0, 1)."""
    return int(os.environ.get('RANK', '0')), int(os.environ.get('WORLD_SIZE', '1'))


def is_main():
    return world()[0] == 0


def log(*args):
    """print on the main process only, so a torchrun log reads like a single-process one."""
    if is_main():
        print(*args, flush=True)


def setup(seed, device='cpu'):
    """Threads, seeds and device; under torchrun also the process group (gloo on CPU, nccl on GPU).

    Every process draws the same batches from the same seed and trains on its own slice of each
    (shard), so the global batch, the schedule and the checkpoints are those of a single process.
    """
    rank, size = world()
    threads = int(os.environ.get('OMP_NUM_THREADS') or 0) or max(1, (os.cpu_count() or 1) // size)
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('error: --device=cuda asked for, but torch sees no CUDA GPU here')
    if size > 1:
        if device.startswith('cuda'):
            device = f'cuda:{int(os.environ.get("LOCAL_RANK", "0"))}'
            torch.cuda.set_device(torch.device(device))
        if not dist.is_initialized():
            dist.init_process_group('nccl' if device.startswith('cuda') else 'gloo')
        log(f'distributed: {size} processes ({dist.get_backend()}), {threads} threads each')
    return torch.device(device), np.random.default_rng(seed)


def shard(*batch):
    """This process's slice of each of a batch's arrays (all of them outside torchrun).

    Slice after augmenting the whole batch: every process must draw the same random numbers, so
    that the next epoch's order stays the same on all of them.
    """
    rank, size = world()
    out = tuple(b[rank::size] for b in batch) if size > 1 else batch
    return out if len(out) > 1 else out[0]


def parallel(model):
    """The module to train with: wrapped in DistributedDataParallel under torchrun (gradients averaged)."""
    if world()[1] == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[model_device(model)] if model_device(model).type == 'cuda' else None)


def model_device(model):
    return next(model.parameters()).device


def barrier():
    if dist.is_initialized():
        dist.barrier()


def lr_at(step, total, peak, schedule):
    """'onecycle': linear warm-up over the first 15 % then linear decay to 0; 'step': x0.1 at 40 % and 80 %."""
    f = step / max(1, total)
    if schedule == 'onecycle':
        return peak * (f / 0.15 if f < 0.15 else max(0.0, (1 - f) / 0.85))
    if schedule == 'step':
        return peak * (0.1 ** ((f >= 0.4) + (f >= 0.8)))
    raise ValueError(f'unknown schedule {schedule!r}')


def sgd(params, cfg):
    decay, no_decay = [], []
    for p in params:
        (decay if p.ndim > 1 else no_decay).append(p)
    return torch.optim.SGD([{'params': decay, 'weight_decay': cfg['weight_decay']},
                            {'params': no_decay, 'weight_decay': 0.0}],
                           lr=cfg['lr'], momentum=0.9, nesterov=True)


def kd_loss(student_logits, teacher_logits, T):
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), batch mean."""
    return F.kl_div(F.log_softmax(student_logits / T, 1), F.log_softmax(teacher_logits / T, 1),
                    reduction='batchmean', log_target=True) * T * T


def teacher_logits(oracle, xb, flip=False):
    """The oracle's logits, averaged with those of the mirrored batch when flip (test-time augmentation)."""
    z = oracle(xb)
    return (z + oracle(torch.flip(xb, dims=[3]))) / 2 if flip else z


def ckd_loss(expert_logits, oracle_logits_s, T, alpha, weights=None):
    """Conditional KD: soft loss on the task's classes plus alpha * L1 scale loss on raw logits.
    weights (one per image, mean 1) reweight the soft loss only; None is the paper's uniform mean."""
    scale = alpha * (expert_logits - oracle_logits_s).abs().mean()
    if weights is None:
        return kd_loss(expert_logits, oracle_logits_s, T) + scale
    kl = F.kl_div(F.log_softmax(expert_logits / T, 1), F.log_softmax(oracle_logits_s / T, 1),
                  reduction='none', log_target=True).sum(1)
    return (weights * kl).mean() * T * T + scale


def task_mass_weights(oracle_logits, cols):
    """Per-image weights, batch mean 1, proportional to the oracle's probability that the image is in the task
    (its softmax mass on the columns cols): the soft loss then spends the expert's capacity on the images whose
    ranking among the task's classes can decide a query, and the scale loss still covers every image."""
    mass = torch.softmax(oracle_logits, 1)[:, cols].sum(1)
    return mass / mass.mean().clamp_min(1e-8)


PRECISIONS = ('auto', 'bf16', 'fp32')
_BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


def cpu_flags(cpuinfo='/proc/cpuinfo'):
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith('flags') for f in line.split(':', 1)[1].split()}


def choose_precision(precision, device, flags=None, cuda_bf16=None):
    """Resolve --precision to ('bf16' | 'fp32', reason).

    bf16 autocast pays only where the hardware computes bf16 natively: on a CPU without AVX512-BF16 or
    AMX it is emulated and was measured 22x slower than fp32 (0.05 vs 1.09 steps/s on a 2-core AVX2 CPU).
    """
    if precision not in PRECISIONS:
        raise SystemExit(f'error: --precision={precision}: expected one of {", ".join(PRECISIONS)}')
    if precision != 'auto':
        return precision, f'--precision={precision} asked for'
    device = torch.device(device)
    if device.type == 'cuda':
        ok = torch.cuda.is_bf16_supported() if cuda_bf16 is None else cuda_bf16
        return ('bf16', 'the GPU supports bf16') if ok else ('fp32', 'the GPU has no bf16 support')
    flags = cpu_flags() if flags is None else flags
    native = [f for f in _BF16_CPU_FLAGS if f in flags]
    if native:
        return 'bf16', f'the CPU computes bf16 natively ({", ".join(native)})'
    return 'fp32', 'the CPU has no native bf16 (no avx512_bf16 or amx_bf16 flag), where bf16 autocast is emulated and slow'


_resolved = {}


def resolve_precision(precision, device, verbose=True):
    """choose_precision once per process, printed the first time so every stage log says what it ran."""
    key = (precision, str(device))
    if key not in _resolved:
        _resolved[key] = choose_precision(precision, device)
        if verbose:
            log(f'precision: {_resolved[key][0]} ({_resolved[key][1]})')
    return _resolved[key]


def precision_metrics(precision, device):
    chosen, why = resolve_precision(precision, device)
    return {'precision': chosen, 'precision_reason': why}


def autocast(device, precision):
    """bfloat16 autocast (weights stay fp32) when the resolved precision is bf16; off for fp32."""
    chosen, _ = resolve_precision(precision, device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=chosen == 'bf16')


class _DenseIO(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x.contiguous().to_mkldnn()).to_dense()


def inference_model(model, device, precision):
    """model, or on a CPU running fp32 a oneDNN copy of it for inference: the WRN-16-4 oracle's flip-averaged logits
    of 500 images took 6.9 s against 7.8 s (AVX2, 2 cores), the same within 1e-5. model must be in eval mode."""
    chosen, _ = resolve_precision(precision, device)
    if device.type != 'cpu' or chosen != 'fp32' or not torch.backends.mkldnn.is_available():
        return model
    return _DenseIO(mkldnn.to_mkldnn(copy.deepcopy(model).to(memory_format=torch.contiguous_format))).eval()


def to_input(x_uint8, device):
    return data.normalize(x_uint8).to(device).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def predict(model_fn, images, device, batch_size=500):
    out = []
    for s in range(0, len(images), batch_size):
        out.append(model_fn(to_input(images[s:s + batch_size], device)).float().cpu())
    return torch.cat(out)


class Progress:
    """Prints one line per interval with rate and time left, and the full line at each epoch end."""

    def __init__(self, name, total_steps, done_steps=0, every_s=30):
        self.name, self.total, self.done, self.every = name, total_steps, done_steps, every_s
        self.t0, self.start_done, self.last = time.time(), done_steps, 0.0

    def step(self, msg='', force=False):
        self.done += 1
        now = time.time()
        if (force or now - self.last > self.every) and is_main():
            self.last = now
            rate = (self.done - self.start_done) / max(1e-9, now - self.t0)
            left = (self.total - self.done) / max(rate, 1e-9)
            print(f'[{self.name}] step {self.done}/{self.total} ({100 * self.done / self.total:.0f} %) '
                  f'{msg} | {rate:.2f} steps/s, {_fmt(left)} left', flush=True)


def _fmt(s):
    s = int(s)
    return f'{s // 3600}h{s % 3600 // 60:02d}m' if s >= 3600 else f'{s // 60}m{s % 60:02d}s'


def save_checkpoint(path, **state):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.tmp')
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interruption never leaves a half-written checkpoint


def load_checkpoint(path):
    path = Path(path)
    return torch.load(path, map_location='cpu') if path.exists() else None


def write_json(path, obj):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + '\n')


def steps_per_epoch(n, batch_size):
    return math.ceil(n / batch_size)


def run_epochs(name, ckpt_path, modules, opt, cfg, n_images, train_batch, evaluate, gen):
    """Epoch loop with resume: modules is a dict of nn.Modules saved each epoch with the optimiser.

    train_batch(idx) runs one optimisation step on the images idx and returns a loss float;
    evaluate() returns a dict of metrics, printed and stored after every epoch.
    Returns (history, wall seconds spent in this stage across all resumptions).
    """
    epochs, bs = cfg['epochs'], cfg['batch_size']
    spe = steps_per_epoch(n_images, bs)
    total = epochs * spe
    ck = load_checkpoint(ckpt_path)
    start, history, wall = 0, [], 0.0
    if ck is not None:
        # a setting added after the checkpoint was made counts as unchanged while it is left off ('', 0, False)
        saved = {**{k: v for k, v in cfg.items() if k not in ck['cfg'] and not v}, **ck['cfg']}
        if saved != cfg:
            changed = sorted(k for k in {**saved, **cfg} if saved.get(k) != cfg.get(k))
            raise SystemExit(f'error: {ckpt_path} was made with other settings ({", ".join(changed)}); '
                             f'delete it or use another --out to start over')
        for k, m in modules.items():
            m.load_state_dict(ck['modules'][k])
        opt.load_state_dict(ck['opt'])
        start, history, wall = ck['epoch'], ck['history'], ck['wall_s']
        gen.bit_generator.state = ck['rng']
        log(f'[{name}] resuming after epoch {start}/{epochs}')
    prog = Progress(name, total, start * spe)
    for epoch in range(start, epochs):
        t0 = time.time()
        for m in modules.values():
            m.train()
        losses = []
        for i, idx in enumerate(data.batches(n_images, bs, gen)):
            lr = lr_at(epoch * spe + i, total, cfg['lr'], cfg['schedule'])
            for g in opt.param_groups:
                g['lr'] = lr
            losses.append(train_batch(idx))
            prog.step(f'epoch {epoch + 1}/{epochs} loss {np.mean(losses[-50:]):.4f} lr {lr:.4f}')
        for m in modules.values():
            m.eval()
        metrics = {'epoch': epoch + 1, 'loss': float(np.mean(losses)), **(evaluate() if is_main() else {})}
        wall += time.time() - t0
        history.append(metrics)
        log(f'[{name}] epoch {epoch + 1}/{epochs} done in {time.time() - t0:.0f}s: '
            + ', '.join(f'{k} {v:.4f}' if isinstance(v, float) else f'{k} {v}' for k, v in metrics.items()))
        if is_main():
            save_checkpoint(ckpt_path, cfg=cfg, epoch=epoch + 1, history=history, wall_s=wall, rng=gen.bit_generator.state,
                            opt=opt.state_dict(), modules={k: m.state_dict() for k, m in modules.items()})
        barrier()
    for m in modules.values():
        m.eval()  # also after a resume with no epoch left, where the loop above never ran
    return history, wall
