"""Read a pool part (TF.js model.json + weights.bin) back into a PyTorch state_dict: the inverse of
tfjs_export, used to run baselines on exactly the weights the app serves."""
import json
import re
from pathlib import Path

import numpy as np
import torch

_BN = {'gamma': 'weight', 'beta': 'bias', 'moving_mean': 'running_mean', 'moving_variance': 'running_var'}


def _torch_name(layer, weight):
    m = re.fullmatch(r'(block\d)_(\d+)_(\w+)', layer)
    base = f'{m.group(1)}.layer.{m.group(2)}.{m.group(3)}' if m else layer
    if weight == 'kernel':
        return f'{base}.weight'
    return f'{base}.{_BN.get(weight, weight)}'


def read_part(folder):
    folder = Path(folder)
    model = json.loads((folder / 'model.json').read_text())
    data = np.frombuffer((folder / 'weights.bin').read_bytes(), dtype='<f4')
    state, offset = {}, 0
    for spec in model['weightsManifest'][0]['weights']:
        n = int(np.prod(spec['shape']))
        arr = data[offset:offset + n].reshape(spec['shape'])
        offset += n
        layer, weight = spec['name'].split('/')
        if weight == 'kernel':
            arr = arr.transpose(3, 2, 0, 1) if arr.ndim == 4 else arr.T  # HWIO -> OIHW, (in,out) -> (out,in)
        state[_torch_name(layer, weight)] = torch.from_numpy(np.array(arr, copy=True))
    return state
