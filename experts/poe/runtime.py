"""Where a build runs: threads, seeds and device, torchrun's processes, the number format (precision), inference."""
import copy
import os
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils import mkldnn

from . import data, settings


def repo_path(path):
    """A path setting: a relative one is taken from the repository root."""
    p = Path(path)
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


def setup(device='cpu'):
    """Threads, seeds and device; under torchrun also the process group (gloo on CPU, nccl on GPU).

    Every process draws the same batches from the same seed and trains on its own slice of each
    (shard), so the global batch, the schedule and the checkpoints are those of a single process.
    Seeds are the stages' own (each stage seeds its generator and torch's).
    """
    rank, size = world()
    threads = int(os.environ.get('OMP_NUM_THREADS') or 0) or max(1, (os.cpu_count() or 1) // size)
    torch.set_num_threads(threads)
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('error: --device=cuda asked for, but torch sees no CUDA GPU here')
    if size > 1:
        if device.startswith('cuda'):
            device = f'cuda:{int(os.environ.get("LOCAL_RANK", "0"))}'
            torch.cuda.set_device(torch.device(device))
        if not dist.is_initialized():
            dist.init_process_group('nccl' if device.startswith('cuda') else 'gloo')
        log(f'distributed: {size} processes ({dist.get_backend()}), {threads} threads each')
    return torch.device(device)


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


PRECISIONS = settings.PRECISIONS
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
    chosen, _ = resolve_precision(precision, device, verbose=False)
    if device.type != 'cpu' or chosen != 'fp32' or not torch.backends.mkldnn.is_available():
        return model
    return _DenseIO(mkldnn.to_mkldnn(copy.deepcopy(model).to(memory_format=torch.contiguous_format))).eval()


@torch.no_grad()
def predict(model_fn, images, device, batch_size=500, stats=(data.MEAN, data.STD)):
    """model_fn on uint8 images (numpy or a tensor on any device), batch by batch: float logits on the CPU.
    stats: the dataset's (mean, std)."""
    images = torch.as_tensor(images)
    return torch.cat([model_fn(data.normalize(images[s:s + batch_size].to(device), stats)).float().cpu()
                      for s in range(0, len(images), batch_size)])
