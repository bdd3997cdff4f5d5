"""Stage 3: one expert per CIFAR-100 superclass by conditional knowledge distillation (CKD).

The library and oracle are frozen, so each augmented batch goes through them once and the library
features and oracle logits feed every expert in this process. Loss per expert (POE.md):
T^2 KL(softmax(z_O[:,S]/T) || softmax(z_E/T)) + alpha * mean|z_E - z_O[:,S]|, on all training images.
--jobs=N splits the experts over N processes (each recomputes the shared forward pass).
--quick: 10,000 images, a few epochs (about 2 minutes on 2 cores).
Output: OUT/experts/<superclass>.pt (state_dict + classes + metrics).
"""
import os
import subprocess
import sys
import time

import numpy as np
import torch

from poe import config, data, train, teacher_cache
from poe.oracle import load_oracle
from poe.wrn import Library, Expert, count_params

DEFAULTS = {
    'out': 'experts/checkpoints/full',  # build folder holding oracle.pt and library.pt
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'tasks': '',            # comma-separated superclass names (empty = all 20)
    'width': 16,            # expert channels (0.25 x the 64 of WRN-16-1's block3)
    'epochs': 25,           # 12 gave mean val task top-1 78.8 %, 25 (on the 45-epoch library) 80.3 %
    'batch_size': 256,
    'lr': 0.1,
    'schedule': 'onecycle',
    'weight_decay': 5e-4,
    'temperature': 4.0,     # CKD temperature T
    'alpha': 0.3,           # weight of the L1 scale loss
    'kl_weight': '',        # '' uniform (the paper) | task_mass: soft loss weighted by the oracle's probability of the task
    'teacher_flip': False,  # oracle logits averaged over the image and its mirror (a stronger teacher, 2x oracle cost)
    'teacher_cache': '',    # file in --out made by cache_teacher.py: stored oracle logits of K views (no oracle pass per step); a,b joins several caches' views
    'precision': 'auto',    # auto | bf16 | fp32: auto picks bf16 autocast only where the hardware has native bf16
    'n_train': 0,           # first n training images only (0 = all 45,000)
    'jobs': 1,              # parallel processes, experts split between them
    'seed': 2,
    'device': 'cpu',
}
QUICK = {'out': 'experts/checkpoints/quick', 'epochs': 4, 'n_train': 10000}


def main(argv):
    quick = '--quick' in argv
    argv = [a for a in argv if a != '--quick']
    cfg = config.parse({**DEFAULTS, **(QUICK if quick else {})}, argv, __doc__)
    fine_names, coarse_names = data.label_names(cfg['data'] or None)
    x, _, _ = data.load_split('train', cfg['data'] or None)
    xv, yv, cv = data.load_split('val', cfg['data'] or None)
    groups = data.superclasses(yv, cv)
    tasks = [t for t in cfg['tasks'].split(',') if t] or coarse_names
    unknown = [t for t in tasks if t not in coarse_names]
    if cfg['kl_weight'] not in ('', 'task_mass'):
        raise SystemExit(f"error: --kl_weight must be empty (uniform, the paper's) or task_mass, not {cfg['kl_weight']!r}")
    if unknown:
        raise SystemExit(f'error: unknown superclass {", ".join(unknown)}; known: {", ".join(coarse_names)}')
    if cfg['jobs'] > 1:
        return run_parallel(cfg, tasks, argv, quick)
    device, gen = train.setup(cfg['seed'], cfg['device'])
    out = train.out_dir(cfg)
    if cfg['n_train']:
        x = x[:cfg['n_train']]
    oracle, cache = teacher(out, cfg, len(x), device)
    lib_ck = torch.load(out / 'library.pt', map_location='cpu')
    library = Library(16, 1)
    library.load_state_dict(lib_ck['state_dict'])
    library = library.to(device).to(memory_format=torch.channels_last).eval()
    classes = {t: groups[coarse_names.index(t)] for t in tasks}
    experts = {t: Expert(library.out_channels, cfg['width'], len(classes[t])).to(device).to(memory_format=torch.channels_last)
               for t in tasks}
    cols = {t: torch.tensor(classes[t], device=device) for t in tasks}
    opt = train.sgd([p for e in experts.values() for p in e.parameters()], cfg)
    print(f'{len(experts)} experts of {count_params(next(iter(experts.values()))):,} parameters, {len(x)} images', flush=True)
    feats_val = train.predict(library, xv, device)
    yv_t = torch.as_tensor(yv)

    def step(idx):
        if cache:
            images, z_o = cache.batch(x, idx, gen)
            xb, z_o = train.to_input(images, device), z_o.to(device)
        else:
            xb = train.to_input(data.augment(x[idx], gen), device)
        with train.autocast(device, cfg['precision']):
            with torch.no_grad():
                feats = library(xb)
                if not cache:
                    z_o = train.teacher_logits(oracle, xb, cfg['teacher_flip']).float()
            weights = {t: train.task_mass_weights(z_o, cols[t]) if cfg['kl_weight'] == 'task_mass' else None for t in experts}
            loss = sum(train.ckd_loss(e(feats).float(), z_o[:, cols[t]], cfg['temperature'], cfg['alpha'], weights[t]) for t, e in experts.items())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item() / len(experts)

    def evaluate():
        accs = {}
        with torch.no_grad():
            for t, e in experts.items():
                mask = torch.isin(yv_t, cols[t].cpu())
                pred = e(feats_val[mask].to(device)).argmax(1).cpu()
                accs[t] = float((cols[t].cpu()[pred] == yv_t[mask]).float().mean())
        return {'val_task_top1_mean': float(np.mean(list(accs.values()))), 'val_task_top1': accs}

    tag = 'experts' if len(tasks) == len(coarse_names) else 'experts_' + '_'.join(sorted(tasks))[:60]
    history, wall = train.run_epochs(tag, out / f'{tag}.ckpt', experts, opt, cfg, len(x), step, evaluate, gen)
    (out / 'experts').mkdir(exist_ok=True)
    for t, e in experts.items():
        torch.save({'state_dict': e.state_dict(), 'classes': classes[t], 'class_names': [fine_names[c] for c in classes[t]],
                    'cfg': cfg, 'metrics': {**train.precision_metrics(cfg['precision'], device), 'val_task_top1': history[-1]['val_task_top1'][t], 'wall_s': wall,
                                            'params': count_params(e)}}, out / 'experts' / f'{t}.pt')
    print(f'experts done: mean val task top-1 {history[-1]["val_task_top1_mean"]:.4f}, {wall:.0f}s', flush=True)


def teacher(out, cfg, n, device):
    """(oracle, None) for a teacher run every step, or (None, cache) for stored logits."""
    if not cfg['teacher_cache']:
        return load_oracle(out, device)[0], None
    if cfg['teacher_flip']:
        raise SystemExit('error: --teacher_flip applies to the oracle run every step; a cache fixes it when built (cache_teacher.py --flip)')
    return None, teacher_cache.load_named(out, cfg['teacher_cache'], n)


def run_parallel(cfg, tasks, argv, quick):
    shares = [tasks[i::cfg['jobs']] for i in range(cfg['jobs'])]
    base = [a for a in argv if not a.startswith(('--jobs', '--tasks', '--device'))] + (['--quick'] if quick else [])
    threads = max(1, (os.cpu_count() or 1) // cfg['jobs'])
    gpus = torch.cuda.device_count() if cfg['device'].startswith('cuda') else 0
    device = lambda i: f'cuda:{i % gpus}' if gpus else cfg['device']  # one GPU per worker, round robin
    t0 = time.time()
    procs = [subprocess.Popen([sys.executable, __file__, *base, '--jobs=1', f'--device={device(i)}', '--tasks=' + ','.join(s)],
                              env={**os.environ, 'OMP_NUM_THREADS': str(threads)}) for i, s in enumerate(shares) if s]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f'error: expert workers exited with {codes}')
    print(f'{len(procs)} expert workers done in {time.time() - t0:.0f}s', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
