"""Loading the trained oracle of a build folder."""
import torch

from .wrn import WideResNet


def load_oracle(out, device):
    path = out / 'oracle.pt'
    if not path.exists():
        raise SystemExit(f'error: {path} not found; run train_oracle.py with the same --out first')
    ck = torch.load(path, map_location='cpu')
    model = WideResNet(ck['arch']['depth'], ck['arch']['widen'], 100)
    model.load_state_dict(ck['state_dict'])
    return model.to(device).to(memory_format=torch.channels_last).eval(), ck
