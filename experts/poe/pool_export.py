"""A library and experts written as a PoE pool: pool.json + one TF.js LayersModel per part, and reference.json
(test images with the PyTorch logits of every expert, which the TypeScript tests must reproduce)."""
import base64
import datetime
import json
import re

import numpy as np
import torch

from . import checkpoint, data
from .tfjs_export import expert_graph, library_graph, write_part
from .wrn import count_params

FORMAT, FORMAT_VERSION = 'poe-pool', 1


def check_parts(library, experts, tasks, fine_names):
    """Refuses experts that do not fit the library or their classes, and classes covered twice."""
    seen = {}
    for name, m in experts.items():
        if m.block3.layer[0].conv1.in_channels != library.out_channels:
            raise SystemExit(f'error: expert {name} takes {m.block3.layer[0].conv1.in_channels} input channels, '
                             f'but the library gives {library.out_channels}')
        if m.fc.out_features != len(tasks[name]):
            raise SystemExit(f'error: expert {name} has {m.fc.out_features} outputs but covers {len(tasks[name])} classes')
        for c in tasks[name]:
            if c in seen:
                raise SystemExit(f'error: class {fine_names[c]} is covered by both {seen[c]} and {name}')
            seen[c] = name
    return seen


def folder_names(names):
    """A safe, distinct folder for each expert name (names are free text: "cup / dog / ...", "kitchen things")."""
    out, used = {}, set()
    for n in names:
        base = re.sub(r'[^A-Za-z0-9._-]+', '_', n).strip('._') or 'expert'
        folder, i = base, 2
        while folder in used:
            folder, i = f'{base}-{i}', i + 1
        used.add(folder)
        out[n] = folder
    return out


def reference(library, experts, images, labels, stats):
    with torch.no_grad():
        feats = library(data.normalize(images, stats))
        logits = {n: m(feats).tolist() for n, m in experts.items()}
    nhwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    return {'about': 'PyTorch logits of each expert on these images (uint8 NHWC, base64); TF.js must match',
            'images': {'shape': list(nhwc.shape), 'dtype': 'uint8', 'base64': base64.b64encode(nhwc.tobytes()).decode()},
            'labels': labels.tolist(), 'logits': logits}


CIFAR100_INPUT = {'sizePx': 32, 'channels': 'RGB', 'range': [0, 255], 'layout': 'NHWC', 'mean': list(data.MEAN), 'std': list(data.STD)}


def write_pool(out, library, experts, tasks, fine_names, test, name, version=None, sources=None, metrics=None,
               reference_images=24, builder='experts/build.py', input_spec=CIFAR100_INPUT):
    """Writes the pool folder out; test = (uint8 images, labels) for reference.json; input_spec: what the models take
    (Dataset.input_spec()). Returns the manifest."""
    library, experts = library.eval(), {n: m.eval() for n, m in experts.items()}
    owner = check_parts(library, experts, tasks, fine_names)
    out.mkdir(parents=True, exist_ok=True)
    entry = lambda p: {'path': p.relative_to(out).as_posix(), 'bytes': p.stat().st_size, 'sha256': checkpoint.file_sha256(p)}
    size, channels = input_spec['sizePx'], len(input_spec['mean'])
    lib_files = write_part(*library_graph(library, size, channels), out / 'library')
    feat = list(library(torch.zeros(1, channels, size, size)).shape[1:])
    feat_nhwc = [feat[1], feat[2], feat[0]]
    parts, folders = [], folder_names(experts)
    for n, m in experts.items():
        files = write_part(*expert_graph(m, folders[n], feat_nhwc), out / 'experts' / folders[n])
        parts.append({'name': n, 'classes': list(tasks[n]), 'params': count_params(m), 'width': m.bn1.num_features,
                      'files': {'model': entry(files[0]), 'weights': entry(files[1])}})
    xt, yt = test
    ref = np.flatnonzero(np.isin(yt, list(owner)))[:reference_images]
    stats = (input_spec['mean'], input_spec['std'])
    (out / 'reference.json').write_text(json.dumps(reference(library, experts, xt[ref], yt[ref], stats)))
    now = datetime.datetime.now(datetime.timezone.utc)
    manifest = {
        'format': FORMAT, 'formatVersion': FORMAT_VERSION, 'name': name, 'version': version or now.strftime('%Y%m%dT%H%M%SZ'),
        'input': input_spec,
        'classes': [{'index': c, 'name': fine_names[c], 'task': owner[c]} for c in sorted(owner)],
        'library': {'architecture': 'WRN-16-1 conv1+block1+block2', 'params': count_params(library), 'outputShape': feat_nhwc,
                    'files': {'model': entry(lib_files[0]), 'weights': entry(lib_files[1])}},
        'experts': parts,
        'reference': entry(out / 'reference.json'),
        'provenance': {'builtAt': now.isoformat(timespec='seconds'), 'builder': builder, 'torch': torch.__version__, 'sources': sources or {}},
        'metrics': metrics or {},
    }
    (out / 'pool.json').write_text(json.dumps(manifest, indent=1) + '\n')
    size = sum(p['files'][k]['bytes'] for p in parts + [manifest['library']] for k in ('model', 'weights'))
    print(f'pool {name} v{manifest["version"]}: library {manifest["library"]["params"]:,} params, {len(parts)} experts, '
          f'{len(owner)} classes, {size / 1e6:.2f} MB -> {out}', flush=True)
    return manifest
