"""Files of a build folder: atomic saves, hashes, and the compact forms a device run brings back."""
import hashlib
import os
from pathlib import Path

import torch


def save(path, **state):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.tmp')
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interruption never leaves a half-written file


def load(path):
    path = Path(path)
    return torch.load(path, map_location='cpu') if path.exists() else None


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def half(state):
    """A state_dict with its floating tensors in fp16: half the bytes a device run must bring back."""
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def full(state):
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def momentum_to(opt_state, dtype):
    """A copy of an SGD state_dict with its momentum buffers in dtype (bf16 halves a device checkpoint). A copy:
    opt.state_dict() shares its per-parameter dicts with the live optimizer, whose buffers must stay fp32."""
    state = {}
    for k, s in opt_state['state'].items():
        s = dict(s)
        if s.get('momentum_buffer') is not None:
            s['momentum_buffer'] = s['momentum_buffer'].to(dtype)
        state[k] = s
    return {**opt_state, 'state': state}
