"""How a build is measured, in one place: loading a build or a pool, each expert's top-1 among its own classes, the
model consolidating every expert, and query accuracy (a query = some experts' logits side by side, argmax)."""
import json
from pathlib import Path

import numpy as np
import torch

from . import checkpoint, data, runtime
from .tfjs_import import read_part
from .wrn import Expert, Library, WideResNet, expert_from_state_dict, library_from_state_dict


def own_oracle(factory):
    """The module a --oracle=package.module:factory names (imported from the repository root)."""
    import importlib
    import sys
    module_name, _, fn = factory.partition(':')
    root = str(runtime.repo_path('.'))
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        made = getattr(importlib.import_module(module_name), fn)()
    except (ImportError, AttributeError) as e:
        raise SystemExit(f'error: --oracle={factory}: cannot import it ({e})')
    if not isinstance(made, torch.nn.Module):
        raise SystemExit(f'error: --oracle={factory} returned {type(made).__name__}, not a torch.nn.Module')
    return made


def oracle_name(ck):
    """WRN-16-4, or the factory of an oracle of your own."""
    a = ck['arch']
    return a['own'] if 'own' in a else f'WRN-{a["depth"]}-{a["widen"]}'


def load_oracle(path, device=torch.device('cpu')):
    """(the oracle in eval mode, its checkpoint) from an oracle.pt: {'state_dict', 'arch': {'depth', 'widen'}, ...},
    or {'state_dict', 'factory'} for an oracle of your own (--oracle)."""
    try:
        ck = checkpoint.load(path)
    except Exception as e:  # a torn file: torch raises many types
        raise SystemExit(f'error: {path} is not a PyTorch file torch.load can read ({e})')
    if ck is None:
        raise SystemExit(f'error: {path} not found; the oracle stage writes it')
    try:
        if 'factory' in ck:
            model = own_oracle(ck['factory'])
            model.load_state_dict(checkpoint.full(ck['state_dict']))
            return model.to(device).eval(), ck
        a = ck['arch']
        model = WideResNet(a['depth'], a['widen'], ck['state_dict']['fc.weight'].shape[0], a.get('in_channels', 3), a.get('size', 32))
        model.load_state_dict(checkpoint.full(ck['state_dict']))
    except (KeyError, TypeError, RuntimeError) as e:
        raise SystemExit(f'error: {path} is not an oracle checkpoint (state_dict and arch of a WideResNet): {e}')
    return model.to(device).to(memory_format=torch.channels_last).eval(), ck


def library_and_experts(ck):
    """(Library, {task: Expert}, {task: classes}) from a stage output that holds both (experts, tune-N, average)."""
    lib = Library(*ck['library_arch'])
    lib.load_state_dict(ck['library'])
    experts = {}
    for t, state in ck['experts'].items():
        e = Expert(lib.out_channels, state['bn1.weight'].shape[0], len(ck['tasks'][t]))
        e.load_state_dict(state)
        experts[t] = e.eval()
    return lib.eval(), experts, ck['tasks']


def final_output(folder):
    """The stage output a build folder's pool is exported from: the average, else the last tuning, else the experts."""
    folder = Path(folder)
    tunes = sorted(folder.glob('tune-*.pt'), key=lambda p: int(p.stem.split('-')[1]))
    for p in [folder / 'average.pt', *reversed(tunes), folder / 'experts.pt']:
        if p.exists():
            return p
    raise SystemExit(f'error: {folder} holds no experts.pt, tune-N.pt or average.pt: not a finished build folder')


def load_build(folder):
    """(oracle path, Library, {task: Expert}, {task: classes}) of a build folder's final output."""
    lib, experts, tasks = library_and_experts(checkpoint.load(final_output(folder)))
    return Path(folder) / 'oracle.pt', lib, experts, tasks


def load_pool(pool):
    """(Library, {task: Expert}, {task: classes}) from a pool folder's own TF.js files: the weights the app serves."""
    manifest = json.loads((Path(pool) / 'pool.json').read_text())
    part = lambda p: read_part(Path(pool) / Path(p['files']['model']['path']).parent)
    lib = library_from_state_dict(part(manifest['library']), manifest['input']['sizePx']).eval()
    experts = {e['name']: expert_from_state_dict(part(e)).eval() for e in manifest['experts']}
    return lib, experts, {e['name']: e['classes'] for e in manifest['experts']}


@torch.no_grad()
def expert_logits(library, experts, images, device=torch.device('cpu'), stats=(data.MEAN, data.STD)):
    """{task: numpy logits (images x its classes)} of every expert on uint8 images (stats: the dataset's mean, std)."""
    feats = runtime.predict(library, images, device, stats=stats)
    return {t: torch.cat([e(feats[s:s + 1000].to(device)).float().cpu() for s in range(0, len(feats), 1000)]).numpy()
            for t, e in experts.items()}


def task_top1(logits, tasks, y):
    """Each expert's top-1 among its own classes, on the images of those classes."""
    out = {}
    for t, z in logits.items():
        mask = np.isin(y, tasks[t])
        out[t] = float((np.asarray(tasks[t])[z[mask].argmax(1)] == y[mask]).mean())
    return out


def all_top1(logits, tasks, y):
    """The model consolidating every expert (argmax over all their logits) on the images of their classes."""
    cols = np.concatenate([tasks[t] for t in logits])
    covered = np.isin(y, cols)
    pred = cols[np.concatenate(list(logits.values()), 1)[covered].argmax(1)]
    return float((pred == y[covered]).mean())


def stage_metrics(logits, tasks, y):
    """What each distillation stage reports after an epoch (validation split)."""
    task = task_top1(logits, tasks, y)
    return {'val_task_top1_mean': float(np.mean(list(task.values()))), 'val_all_top1': all_top1(logits, tasks, y),
            'val_task_top1': task}


def query_eval(query, tasks, logits, oracle_logits, y):
    """One query's top-1, the oracle's on the same classes, and the share of errors won by another expert."""
    cols = [c for t in query for c in tasks[t]]
    owner = np.array([i for i, t in enumerate(query) for _ in tasks[t]])
    mask = np.isin(y, cols)
    z = np.concatenate([logits[t][mask] for t in query], 1)
    truth = np.array([cols.index(c) for c in y[mask]])
    pred = z.argmax(1)
    wrong = pred != truth
    return {'top1': float((~wrong).mean()), 'oracle_top1': float((oracle_logits[mask][:, cols].argmax(1) == truth).mean()),
            'cross_expert_share': float((owner[pred[wrong]] != owner[truth[wrong]]).mean()) if wrong.any() else 0.0}


def summarize(rows):
    a = lambda k: np.array([r[k] for r in rows]) * 100
    return {'queries': len(rows), 'mean': float(a('top1').mean()), 'std': float(a('top1').std(ddof=1) if len(rows) > 1 else 0.0),
            'oracle_mean': float(a('oracle_top1').mean()), 'cross_expert_share': float(a('cross_expert_share').mean())}


def error_split(query, tasks, logits, y):
    """A query's two ways to fail: the right expert's best logit must beat every other expert's (right expert %),
    and the right class must win inside that expert (within expert %)."""
    cols = [c for t in query for c in tasks[t]]
    owner = np.repeat(np.arange(len(query)), [len(tasks[t]) for t in query])
    mask = np.isin(y, cols)
    z = np.concatenate([logits[t][mask] for t in query], 1)
    truth = np.array([cols.index(c) for c in y[mask]])
    right_expert = owner[z.argmax(1)] == owner[truth]
    within = [z[i, owner == owner[truth[i]]].argmax() == truth[i] - np.flatnonzero(owner == owner[truth[i]])[0] for i in range(len(truth))]
    return {'right_expert': 100 * float(right_expert.mean()), 'within_expert': 100 * float(np.mean(within))}


# The six superclasses the authors released experts for: RESULTS.md's query family.
SIX = ['large_omnivores_and_herbivores', 'medium_mammals', 'people', 'small_mammals', 'vehicles_1', 'vehicles_2']
SHIPPED = Path(__file__).resolve().parents[1] / 'shipped.json'


def shipped_oracle():
    """The built-in pool's oracle file, as experts/shipped.json names it, checked by SHA-256 (not kept in git)."""
    entry = json.loads(SHIPPED.read_text())['oracle']
    path = runtime.repo_path(entry['file'])
    if not path.exists():
        raise SystemExit(f'error: the built-in pool\'s oracle {path} is not here (weights are not kept in git). '
                         f'Recover it: {entry["recover"]}; or rebuild it: {entry["rebuild"]}')
    if checkpoint.file_sha256(path) != entry['sha256']:
        raise SystemExit(f'error: {path} is not the built-in pool\'s oracle (SHA-256 differs from {SHIPPED.name})')
    return path


def load_any(folder, oracle=None):
    """(oracle path, Library, {task: Expert}, {task: classes}) of a build folder, or of a pool folder (pool.json)
    with its oracle file (default: the built-in pool's, for public/pools/cifar100)."""
    folder = Path(folder)
    if (folder / 'pool.json').exists():
        return (Path(oracle) if oracle else shipped_oracle()), *load_pool(folder)
    return load_build(folder)
