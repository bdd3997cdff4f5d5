"""Export a library and experts (PyTorch state_dicts) as a PoE pool: pool.json + TF.js LayersModels.

From a build folder:       export_pool.py --build experts/checkpoints/quick --out public/pools/quick
From external state_dicts: export_pool.py --library lib.pt --expert people=people.pt --expert vehicles_1=v1.pt --out DIR
An expert named after a CIFAR-100 superclass covers that superclass's classes in fine-index order;
otherwise give them: --expert-classes flowers=orchid,poppy,rose,sunflower,tulip.
Expert width and class count come from the tensors' shapes. The pool also carries reference.json:
test images with the PyTorch logits of every expert, which the TypeScript tests must reproduce.
"""
import argparse
import base64
import datetime
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

from poe import data
from poe.tfjs_export import library_graph, expert_graph, write_part
from poe.wrn import library_from_state_dict, expert_from_state_dict, count_params

FORMAT, FORMAT_VERSION = 'poe-pool', 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', type=Path, help='build folder with library.pt and experts/*.pt')
    p.add_argument('--library', type=Path, help='library state_dict (.pt), instead of --build')
    p.add_argument('--expert', action='append', default=[], metavar='NAME=FILE', help='expert state_dict (repeatable)')
    p.add_argument('--expert-classes', action='append', default=[], metavar='NAME=C1,C2', help='class names of a non-superclass expert')
    p.add_argument('--out', type=Path, required=True, help='pool folder to write')
    p.add_argument('--name', default=None, help='pool name (default: the out folder name)')
    p.add_argument('--version', default=None, help='pool version (default: UTC timestamp)')
    p.add_argument('--data', default=None, help='CIFAR-100 folder (label names and reference images)')
    p.add_argument('--reference-images', type=int, default=24, help='test images in reference.json')
    p.add_argument('--metrics', type=Path, help='JSON of measured metrics to record in the manifest')
    return p.parse_args(argv)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_entry(root, path):
    return {'path': path.relative_to(root).as_posix(), 'bytes': path.stat().st_size, 'sha256': sha256(path)}


def load_state(path):
    if not Path(path).exists():
        raise SystemExit(f'error: {path} not found')
    try:
        obj = torch.load(path, map_location='cpu')
    except Exception as e:  # torch raises many types for a bad file
        raise SystemExit(f'error: {path} is not a PyTorch file torch.load can read ({e})')
    return obj, (obj.get('state_dict', obj) if isinstance(obj, dict) else obj)


def collect_parts(args, fine_names, coarse_names, groups):
    """Returns (library state, {expert name: (state, [class indices])}, provenance sources)."""
    if args.build:
        lib_obj, lib_state = load_state(args.build / 'library.pt')
        files = sorted((args.build / 'experts').glob('*.pt'))
        if not files:
            raise SystemExit(f'error: no experts in {args.build / "experts"}; run train_experts.py first')
        experts = {}
        for f in sorted(files, key=lambda f: coarse_names.index(f.stem) if f.stem in coarse_names else 99):
            obj, state = load_state(f)
            experts[f.stem] = (state, obj['classes'])
        return lib_state, experts, {'build': str(args.build)}
    if not args.library or not args.expert:
        raise SystemExit('error: give --build DIR, or --library FILE and at least one --expert NAME=FILE')
    _, lib_state = load_state(args.library)
    explicit = {}
    for spec in args.expert_classes:
        name, _, names = spec.partition('=')
        missing = [c for c in names.split(',') if c not in fine_names]
        if missing:
            raise SystemExit(f'error: --expert-classes {name}: unknown class {", ".join(missing)}')
        explicit[name] = [fine_names.index(c) for c in names.split(',')]
    experts = {}
    for spec in args.expert:
        name, eq, path = spec.partition('=')
        if not eq or not name or not path:
            raise SystemExit(f'error: --expert {spec!r} must look like NAME=FILE')
        if name in experts:
            raise SystemExit(f'error: expert {name} given twice')
        if name in explicit:
            classes = explicit[name]
        elif name in coarse_names:
            classes = groups[coarse_names.index(name)]
        else:
            raise SystemExit(f'error: expert {name} is not a CIFAR-100 superclass; name its classes with --expert-classes {name}=a,b,c')
        experts[name] = (load_state(path)[1], classes)
    return lib_state, experts, {'library': str(args.library), 'experts': {s.partition('=')[0]: s.partition('=')[2] for s in args.expert}}


def reference(lib, modules, images, labels):
    x = data.normalize(images)
    with torch.no_grad():
        feats = lib(x)
        logits = {n: m(feats).tolist() for n, m in modules.items()}
    nhwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    return {'about': 'PyTorch logits of each expert on these images (uint8 NHWC, base64); TF.js must match',
            'images': {'shape': list(nhwc.shape), 'dtype': 'uint8', 'base64': base64.b64encode(nhwc.tobytes()).decode()},
            'labels': labels.tolist(), 'logits': logits}


def main(argv):
    args = parse_args(argv)
    try:
        fine_names, coarse_names = data.label_names(args.data)
        xt, yt, ct = data.load_split('test', args.data)
    except data.DataMissing as e:
        raise SystemExit(f'error: {e}')
    groups = data.superclasses(yt, ct)
    lib_state, expert_states, sources = collect_parts(args, fine_names, coarse_names, groups)
    try:
        lib = library_from_state_dict(lib_state).eval()
        modules = {}
        for name, (state, classes) in expert_states.items():
            m = expert_from_state_dict(state).eval()
            if m.block3.layer[0].conv1.in_channels != lib.out_channels:
                raise ValueError(f'expert {name} takes {m.block3.layer[0].conv1.in_channels} input channels, '
                                 f'but the library gives {lib.out_channels}')
            if m.fc.out_features != len(classes):
                raise ValueError(f'expert {name} has {m.fc.out_features} outputs but covers {len(classes)} classes')
            modules[name] = m
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    seen = {}
    for name, (_, classes) in expert_states.items():
        for c in classes:
            if c in seen:
                raise SystemExit(f'error: class {fine_names[c]} is covered by both {seen[c]} and {name}')
            seen[c] = name

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    lib_graph, lib_out = library_graph(lib)
    lib_files = write_part(lib_graph, lib_out, out / 'library')
    feat_shape = list(lib(torch.zeros(1, 3, 32, 32)).shape[1:])
    feat_nhwc = [feat_shape[1], feat_shape[2], feat_shape[0]]
    experts = []
    for name, m in modules.items():
        files = write_part(*expert_graph(m, name, feat_nhwc), out / 'experts' / name)
        experts.append({'name': name, 'classes': expert_states[name][1], 'params': count_params(m),
                        'width': m.bn1.num_features,
                        'files': {'model': file_entry(out, files[0]), 'weights': file_entry(out, files[1])}})
    covered = np.isin(yt, list(seen))
    ref_idx = np.flatnonzero(covered)[:args.reference_images]
    (out / 'reference.json').write_text(json.dumps(reference(lib, modules, xt[ref_idx], yt[ref_idx])))
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {}
    manifest = {
        'format': FORMAT, 'formatVersion': FORMAT_VERSION,
        'name': args.name or out.name,
        'version': args.version or datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ'),
        'input': {'sizePx': 32, 'channels': 'RGB', 'range': [0, 255], 'layout': 'NHWC',
                  'mean': list(data.MEAN), 'std': list(data.STD)},
        'classes': [{'index': c, 'name': fine_names[c], 'task': seen[c]} for c in sorted(seen)],
        'library': {'architecture': 'WRN-16-1 conv1+block1+block2', 'params': count_params(lib),
                    'outputShape': feat_nhwc,
                    'files': {'model': file_entry(out, lib_files[0]), 'weights': file_entry(out, lib_files[1])}},
        'experts': experts,
        'reference': file_entry(out, out / 'reference.json'),
        'provenance': {'builtAt': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                       'builder': 'experts/export_pool.py', 'torch': torch.__version__, 'sources': sources},
        'metrics': metrics,
    }
    (out / 'pool.json').write_text(json.dumps(manifest, indent=1) + '\n')
    size = sum(e['files'][k]['bytes'] for e in experts + [manifest['library']] for k in ('model', 'weights'))
    print(f'pool {manifest["name"]} v{manifest["version"]}: library {manifest["library"]["params"]:,} params, '
          f'{len(experts)} experts, {len(seen)} classes, {size / 1e6:.2f} MB -> {out}')


if __name__ == '__main__':
    main(sys.argv[1:])
