"""Export a library and experts trained by other PyTorch code of the same WideResNet family as a PoE pool.
(A build folder is exported by its own export stage: experts/build.py CONFIG --stages=export.)

  /usr/bin/python3 experts/tools/export_pool.py --library lib.pt --expert people=people.pt --expert vehicles_1=v1.pt --out DIR

An expert named after a CIFAR-100 superclass covers that superclass's classes in fine-index order; otherwise
give them: --expert-classes flowers=orchid,poppy,rose,sunflower,tulip. Width and class count come from the
tensors' shapes; a whole WideResNet's state_dict serves as a library (its conv1, block1 and block2).
"""
import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data  # noqa: E402
from poe.pool_export import write_pool  # noqa: E402
from poe.wrn import expert_from_state_dict, library_from_state_dict  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--library', type=Path, required=True, help='library (or whole WideResNet) state_dict, .pt')
    p.add_argument('--expert', action='append', default=[], metavar='NAME=FILE', help='expert state_dict (repeatable)')
    p.add_argument('--expert-classes', action='append', default=[], metavar='NAME=C1,C2', help='class names of a non-superclass expert')
    p.add_argument('--out', type=Path, required=True, help='pool folder to write')
    p.add_argument('--name', default=None, help='pool name (default: the out folder name)')
    p.add_argument('--version', default=None, help='pool version (default: UTC timestamp)')
    p.add_argument('--data', default=None, help='CIFAR-100 folder (label names and reference images)')
    p.add_argument('--reference-images', type=int, default=24, help='test images in reference.json')
    return p.parse_args(argv)


def load_state(path):
    if not Path(path).exists():
        raise SystemExit(f'error: {path} not found')
    try:
        obj = torch.load(path, map_location='cpu')
    except Exception as e:  # torch raises many types for a bad file
        raise SystemExit(f'error: {path} is not a PyTorch file torch.load can read ({e})')
    return obj.get('state_dict', obj) if isinstance(obj, dict) else obj


def expert_classes(args, fine_names, coarse_names, groups):
    explicit = {}
    for spec in args.expert_classes:
        name, _, names = spec.partition('=')
        missing = [c for c in names.split(',') if c not in fine_names]
        if missing:
            raise SystemExit(f'error: --expert-classes {name}: unknown class {", ".join(missing)}')
        explicit[name] = [fine_names.index(c) for c in names.split(',')]
    files, tasks = {}, {}
    for spec in args.expert:
        name, eq, path = spec.partition('=')
        if not eq or not name or not path:
            raise SystemExit(f'error: --expert {spec!r} must look like NAME=FILE')
        if name in files:
            raise SystemExit(f'error: expert {name} given twice')
        if name in explicit:
            tasks[name] = explicit[name]
        elif name in coarse_names:
            tasks[name] = groups[coarse_names.index(name)]
        else:
            raise SystemExit(f'error: expert {name} is not a CIFAR-100 superclass; name its classes with --expert-classes {name}=a,b,c')
        files[name] = path
    if not files:
        raise SystemExit('error: give at least one --expert NAME=FILE')
    return files, tasks


def main(argv):
    args = parse_args(argv)
    try:
        fine_names, coarse_names = data.label_names(args.data)
        xt, yt, ct = data.load_split('test', args.data)
    except data.DataMissing as e:
        raise SystemExit(f'error: {e}')
    files, tasks = expert_classes(args, fine_names, coarse_names, data.superclasses(yt, ct))
    try:
        library = library_from_state_dict(load_state(args.library))
        experts = {n: expert_from_state_dict(load_state(f)) for n, f in files.items()}
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    write_pool(args.out, library, experts, tasks, fine_names, (xt, yt), args.name or args.out.name, args.version,
               {'library': str(args.library), 'experts': files}, reference_images=args.reference_images,
               builder='experts/tools/export_pool.py')


if __name__ == '__main__':
    main(sys.argv[1:])
