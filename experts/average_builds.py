"""Weight averaging of two builds that share their architecture ("model soup", EXPERIMENTS.md section 16):
library and every expert become (1 - weight) * A + weight * B, parameter by parameter, BatchNorm statistics
included (measuring them again on the training split scored lower on validation: section 16).
--b=B1,B2,... averages A and every B uniformly (section 19).
Writes a build folder for validate_build.py; the pool format and sizes are unchanged.

  /usr/bin/python3 experts/average_builds.py --a=experts/checkpoints/wrn16-4-lib/tuned-2 --b=experts/checkpoints/wrn16-4-lib/tuned-3 --out=/tmp/soup
  /usr/bin/python3 experts/validate_build.py --build experts/checkpoints/wrn16-4-lib/tuned --build /tmp/soup

Under a minute on 2 cores; it prints the average's validation figures.
"""
import shutil
import sys

import torch

from poe import config, data, train
from results import load_build
from tune_library import consolidated_val

DEFAULTS = {
    'a': 'experts/checkpoints/wrn16-4-lib/tuned',  # build folder: oracle.pt, library.pt, experts/
    'b': '',                # build folder of the same architecture and superclasses; B1,B2,... for a uniform average of all
    'weight': 0.5,          # of --b (two builds only)
    'out': 'experts/checkpoints/soup',
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
}


def average(sa, sb, w):
    """(1 - w) * sa + w * sb for floating tensors; integer ones (BatchNorm's batch counters) are taken from sa."""
    return average_many([sa, sb], [1 - w, w])


def average_many(states, weights):
    """sum of weights[i] * states[i] for floating tensors; integer ones are taken from the first state."""
    first = states[0]
    for other in states[1:]:
        if first.keys() != other.keys():
            raise SystemExit('error: the builds differ in architecture: ' + ', '.join(sorted(set(first) ^ set(other))))
    return {k: sum(w * sd[k] for w, sd in zip(weights, states)) if first[k].is_floating_point() else first[k] for k in first}


def main(argv):
    cfg = config.parse(DEFAULTS, argv, __doc__)
    if not cfg['b']:
        raise SystemExit('error: --b (the second build) is required')
    if not 0 <= cfg['weight'] <= 1:
        raise SystemExit('error: --weight must be between 0 and 1')
    train.setup(0, 'cpu')
    a, out = train.out_dir({'out': cfg['a']}), train.out_dir(cfg)
    bs = [train.out_dir({'out': p}) for p in cfg['b'].split(',')]
    w = cfg['weight']
    if len(bs) > 1 and w != DEFAULTS['weight']:
        raise SystemExit('error: --weight is for two builds; several --b builds are averaged uniformly with --a')
    weights = [1 - w, w] if len(bs) == 1 else [1 / (1 + len(bs))] * (1 + len(bs))
    b = bs[-1]
    if out.resolve() in {p.resolve() for p in (a, *bs)}:
        raise SystemExit('error: --out must differ from --a and --b')
    for build in (a, *bs):
        if not (build / 'library.pt').exists() or not list((build / 'experts').glob('*.pt')) or not (build / 'oracle.pt').exists():
            raise SystemExit(f'error: {build} is not a build folder (it needs oracle.pt, library.pt and experts/*.pt)')
    lib_a, exp_a = load_build(a)
    others = [load_build(p) for p in bs]
    for _, exp_b in others:
        if exp_a.keys() != exp_b.keys():
            raise SystemExit('error: the builds have different experts: ' + ', '.join(sorted(set(exp_a) ^ set(exp_b))))
    lib_a.load_state_dict(average_many([lib_a.state_dict()] + [lib.state_dict() for lib, _ in others], weights))
    for t, (e, _, _) in exp_a.items():
        e.load_state_dict(average_many([e.state_dict()] + [exp[t][0].state_dict() for _, exp in others], weights))
    cols = {t: torch.tensor(c) for t, (_, c, _) in exp_a.items()}
    xv, yv, _ = data.load_split('val', cfg['data'] or None)
    val = consolidated_val(lib_a, {t: e for t, (e, _, _) in exp_a.items()}, cols, xv, yv, torch.device('cpu'))
    if out.exists():
        shutil.rmtree(out)
    (out / 'experts').mkdir(parents=True)
    shutil.copy2(a / 'oracle.pt', out / 'oracle.pt')
    # the settings, history and earlier runs are --b's (the later run, for a pool tuned once more); 'soup' says what was averaged
    soup = {'a': a.name, 'b': b.name, 'weight': w, 'val_all_top1': val['val_all_top1']} if len(bs) == 1 else \
        {'a': a.name, 'b': [p.name for p in bs], 'weights': weights, 'val_all_top1': val['val_all_top1']}
    ck = torch.load(b / 'library.pt', map_location='cpu')
    torch.save({**ck, 'state_dict': lib_a.state_dict(), 'soup': soup}, out / 'library.pt')
    for t, (e, _, _) in exp_a.items():
        ck = torch.load(b / 'experts' / f'{t}.pt', map_location='cpu')
        torch.save({**ck, 'state_dict': e.state_dict(), 'soup': soup,
                    'metrics': {**ck['metrics'], 'val_task_top1': val['val_task_top1'][t]}}, out / 'experts' / f'{t}.pt')
    print(f'val: mean task top-1 {val["val_task_top1_mean"]:.4f}, all {len(exp_a)} experts at once {val["val_all_top1"]:.4f}', flush=True)
    print(f'averaged build written to {out} (' + ' + '.join(f'{x:.3g} x {p.name}' for x, p in zip(weights, (a, *bs))) + ')', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
