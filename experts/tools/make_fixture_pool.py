"""Pools with random (but non-trivial, seeded) weights for the TypeScript tests: PyTorch and TF.js must give the
same logits on them, and the app must open them like any pool from elsewhere.

  /usr/bin/python3 experts/tools/make_fixture_pool.py --out test/.tmp/fixture-pool            # 3 experts
  /usr/bin/python3 experts/tools/make_fixture_pool.py --kind six --out test/.tmp/six-pool     # 6 superclass experts
  /usr/bin/python3 experts/tools/make_fixture_pool.py --kind size64 --out test/.tmp/pool-64   # 64 x 64 input
  /usr/bin/python3 experts/tools/make_fixture_pool.py --kind grey28 --out test/.tmp/pool-grey # 28 x 28 grey input

fixture: the library from a whole WRN-16-1 state_dict (its conv1, block1, block2); experts people (width 16),
vehicles_1 (width 8) and a non-superclass 'kitchen' of 3 classes (width 12). six: six superclass experts.
size64: two experts on a library for 64 x 64 input (its stem strides by 2), reference images upscaled 2x.
grey28: two experts on a one-channel library for 28 x 28 input, reference images CIFAR's centres made grey by luma.
"""
import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data  # noqa: E402
from poe.pool_export import CIFAR100_INPUT, write_pool  # noqa: E402
from poe.wrn import Expert, WideResNet, expert_from_state_dict, library_from_state_dict  # noqa: E402

KINDS = {  # name, version, seed, input size, reference images, experts: (name, width, classes or None for the superclass's)
    'fixture': ('fixture', 'fixture-1', 0, 32, 24, (('people', 16, None), ('vehicles_1', 8, None), ('kitchen', 12, ('bowl', 'cup', 'plate')))),
    'six': ('six-experts', 'six-1', 6, 32, 8, tuple((n, w, None) for n, w in (('people', 16), ('vehicles_1', 8), ('vehicles_2', 8),
                                                                              ('trees', 12), ('flowers', 8), ('fish', 8)))),
    'size64': ('pool-64', 'size64-1', 64, 64, 8, (('people', 16, None), ('fruit_and_vegetables', 8, None))),
    'grey28': ('pool-grey', 'grey28-1', 28, 28, 8, (('people', 16, None), ('vehicles_1', 8, None))),
}
GREY = {'sizePx': 28, 'channels': 'L', 'range': [0, 255], 'layout': 'NHWC', 'mean': [0.4782], 'std': [0.2499]}
LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def randomize_bn(module, gen):
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5
        elif isinstance(m, torch.nn.Linear):
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * 0.3
            m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
    return module


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', type=Path, required=True)
    p.add_argument('--kind', choices=sorted(KINDS), default='fixture')
    p.add_argument('--data', default=None)
    args = p.parse_args(argv)
    name, version, seed, size, refs, specs = KINDS[args.kind]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    fine_names, coarse_names = data.label_names(args.data)
    xt, yt, ct = data.load_split('test', args.data)
    groups = dict(zip(coarse_names, data.superclasses(yt, ct)))
    # through the state_dict loaders, as weights trained elsewhere arrive
    grey = args.kind == 'grey28'
    library = library_from_state_dict(randomize_bn(WideResNet(16, 1, 100, in_channels=1 if grey else 3, size=size), gen).state_dict(), size)
    if grey:  # CIFAR's test images, their centre 28 x 28, grey as PIL's convert('L') makes it
        xt = (torch.from_numpy(xt[:, :, 2:30, 2:30]).float() * LUMA).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8).numpy()
    elif size != 32:
        xt = xt.repeat(size // 32, 2).repeat(size // 32, 3)  # CIFAR's test images, upscaled
    experts, tasks = {}, {}
    for n, width, classes in specs:
        tasks[n] = [fine_names.index(c) for c in classes] if classes else groups[n]
        experts[n] = expert_from_state_dict(randomize_bn(Expert(32, width, len(tasks[n])), gen).state_dict())
    write_pool(args.out, library, experts, tasks, fine_names, (xt, yt), name, version, reference_images=refs,
               builder='experts/tools/make_fixture_pool.py', input_spec=GREY if grey else {**CIFAR100_INPUT, 'sizePx': size})


if __name__ == '__main__':
    main(sys.argv[1:])
