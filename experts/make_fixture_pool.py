"""A small pool with random (but non-trivial) weights, imported through the exporter's external
state_dict path, for the equivalence tests: PyTorch and TF.js must give the same logits.

  /usr/bin/python3 experts/make_fixture_pool.py --out test/.tmp/fixture-pool

Library: a whole WRN-16-1 state_dict (the exporter keeps conv1, block1, block2). Experts: people
(width 16), vehicles_1 (width 8) and a non-superclass 'kitchen' of 3 classes (width 12).
"""
import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export_pool  # noqa: E402
from poe.wrn import WideResNet, Expert  # noqa: E402


def randomize_bn(module, gen):
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * 0.3
            m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
    return module


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--out', type=Path, required=True)
    p.add_argument('--data', default=None)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.save(randomize_bn(WideResNet(16, 1, 100), gen).state_dict(), tmp / 'lib.pt')
        for name, width, n in (('people', 16, 5), ('vehicles_1', 8, 5), ('kitchen', 12, 3)):
            torch.save(randomize_bn(Expert(32, width, n), gen).state_dict(), tmp / f'{name}.pt')
        export_pool.main(['--library', str(tmp / 'lib.pt'), '--expert', f'people={tmp / "people.pt"}',
                          '--expert', f'vehicles_1={tmp / "vehicles_1.pt"}', '--expert', f'kitchen={tmp / "kitchen.pt"}',
                          '--expert-classes', 'kitchen=bowl,cup,plate', '--out', str(args.out), '--name', 'fixture',
                          '--version', 'fixture-1', '--reference-images', '24']
                         + (['--data', args.data] if args.data else []))


if __name__ == '__main__':
    main(sys.argv[1:])
