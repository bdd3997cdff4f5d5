"""Stage 4 (optional): fine-tune the library together with all 20 experts by their CKD losses.

The library of POE.md is distilled for a 100-way WRN-16-1 head that is thrown away; the experts then
learn on features made for that head. This stage starts from a finished build (library.pt and
experts/*.pt) and trains library and experts jointly on the sum of the 20 experts' CKD losses, so the
library's features become the ones 16-channel experts can use best. Sizes do not change, every
superclass takes part (the library stays shared and task-agnostic), and afterwards the library is
frozen again: an expert added later trains on it with train_experts.py as before.

  /usr/bin/python3 experts/tune_library.py --base=experts/checkpoints/wrn16-4-lib --out=experts/checkpoints/wrn16-4-joint

Output: OUT/library.pt and OUT/experts/<superclass>.pt (with OUT/oracle.pt copied from the base),
the same layout as a build folder, so validate_build.py, results.py and export_pool.py take it.
"""
import shutil
import sys

import numpy as np
import torch

from poe import config, data, train, teacher_cache
from poe.wrn import Library, Expert, count_params

DEFAULTS = {
    'base': 'experts/checkpoints/full',  # finished build: oracle.pt, library.pt, experts/, the teacher cache
    'out': 'experts/checkpoints/full-joint',
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'epochs': 60,           # all-20-expert consolidated val top-1 without the consolidation term: base 63.1 %, 15 epochs 63.6 %, 30 epochs 64.9 %, 60 epochs 66.1 %
    'batch_size': 256,
    'lr': 0.05,             # peak of the one-cycle schedule; both parts start trained
    'schedule': 'onecycle',
    'weight_decay': 5e-4,
    'temperature': 4.0,
    'alpha': 0.3,
    'consolidation': 0.1,  # (val all-20 at 60 epochs: 0 gives 66.1 %, 0.05 gives 68.2 %, 0.1 gives 69.0 %; 0.5 diverged) weight (relative to the 20 CKD losses together) of KD from the oracle's 100-way logits to all experts' concatenated logits
    'consolidation_temperature': 0.0,  # the consolidation term's KD temperature; 0 = --temperature
    'label_weight': 0.0,    # weight (like --consolidation's) of cross-entropy from the true labels to all experts' concatenated logits (EXPERIMENTS.md section 20)
    'consolidation_query': 0,  # 0: the term consolidates all 20 experts; N >= 2: each image its own random query of 2..N superclasses, its own among them
    'teacher_cache': 'teacher_cache.pt',  # in --base; a,b joins the views of several caches of the same oracle
    'precision': 'auto',
    'n_train': 0,
    'seed': 3,
    'device': 'cpu',
}
QUICK = {'base': 'experts/checkpoints/quick', 'out': 'experts/checkpoints/quick-joint', 'epochs': 2, 'n_train': 10000}


def main(argv):
    quick = '--quick' in argv
    argv = [a for a in argv if a != '--quick']
    cfg = config.parse({**DEFAULTS, **(QUICK if quick else {})}, argv, __doc__)
    device, gen = train.setup(cfg['seed'], cfg['device'])
    base, out = train.out_dir({'out': cfg['base']}), train.out_dir(cfg)
    if base.resolve() == out.resolve():
        raise SystemExit('error: --out must differ from --base (the base build stays as it was)')
    expert_files = sorted((base / 'experts').glob('*.pt'))
    if not (base / 'library.pt').exists() or not expert_files:
        raise SystemExit(f'error: {base} needs library.pt and experts/*.pt (run train_library.py and train_experts.py first)')
    out.mkdir(parents=True, exist_ok=True)
    if not (out / 'oracle.pt').exists():
        shutil.copy2(base / 'oracle.pt', out / 'oracle.pt')
    x, y, _ = data.load_split('train', cfg['data'] or None)
    if cfg['n_train']:
        x, y = x[:cfg['n_train']], y[:cfg['n_train']]
    cache = teacher_cache.load_named(base, cfg['teacher_cache'], len(x))
    xv, yv, _ = data.load_split('val', cfg['data'] or None)

    library = Library(16, 1)
    library.load_state_dict(torch.load(base / 'library.pt', map_location='cpu')['state_dict'])
    library = library.to(device).to(memory_format=torch.channels_last)
    saved = {p.stem: torch.load(p, map_location='cpu') for p in expert_files}
    experts = {}
    for t, s in saved.items():
        e = Expert(library.out_channels, s['state_dict']['bn1.weight'].shape[0], len(s['classes']))  # a GPU build's cfg names it otherwise
        e.load_state_dict(s['state_dict'])
        experts[t] = e.to(device).to(memory_format=torch.channels_last)
    cols = {t: torch.tensor(s['classes'], device=device) for t, s in saved.items()}
    cons_T = cfg['consolidation_temperature'] or cfg['temperature']
    if cfg['consolidation_query'] == 1 or cfg['consolidation_query'] < 0:
        raise SystemExit('error: --consolidation_query takes 0 (all experts) or a largest query size of at least 2')
    task_of_class = torch.zeros(100, dtype=torch.long, device=device)
    for i, c in enumerate(cols.values()):
        task_of_class[c] = i
    modules = {'library': library, **{f'expert.{t}': e for t, e in experts.items()}}
    opt = train.sgd([p for m in modules.values() for p in m.parameters()], cfg)
    print(f'library {count_params(library):,} + {len(experts)} experts of {count_params(next(iter(experts.values()))):,} parameters, '
          f'{len(x)} images', flush=True)

    def step(idx):
        images, z_o = cache.batch(x, idx, gen)
        xb, z_o = train.to_input(images, device), z_o.to(device)
        if cfg['consolidation_query']:
            own = task_of_class[torch.as_tensor(y[idx], device=device)]
            tasks = random_queries(own, len(cols), cfg['consolidation_query'], gen)
        with train.autocast(device, cfg['precision']):
            feats = library(xb)
            z_e = {t: e(feats).float() for t, e in experts.items()}
            loss = sum(train.ckd_loss(z_e[t], z_o[:, cols[t]], cfg['temperature'], cfg['alpha']) for t in experts)
            if cfg['consolidation']:
                loss = loss + cfg['consolidation'] * len(experts) * consolidation_loss(
                    z_e, z_o, cols, cons_T, tasks if cfg['consolidation_query'] else None)
            if cfg['label_weight']:
                loss = loss + cfg['label_weight'] * len(experts) * label_loss(z_e, cols, torch.as_tensor(y[idx], device=device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item() / len(experts)

    def evaluate():
        return consolidated_val(library, experts, cols, xv, yv, device)

    history, wall = train.run_epochs('tune_library', out / 'tune_library.ckpt', modules, opt, cfg, len(x), step, evaluate, gen)
    lib_ck = torch.load(base / 'library.pt', map_location='cpu')
    torch.save({**lib_ck, 'state_dict': library.cpu().state_dict(), 'tune_cfg': cfg, 'tune_history': history,
                'tune_before': earlier_tunings(lib_ck),
                'metrics': {**lib_ck['metrics'], 'tune_wall_s': wall}}, out / 'library.pt')
    (out / 'experts').mkdir(exist_ok=True)
    for t, e in experts.items():
        s = saved[t]
        torch.save({**s, 'state_dict': e.cpu().state_dict(), 'tune_cfg': cfg,
                    'metrics': {**s['metrics'], 'val_task_top1': history[-1]['val_task_top1'][t], 'tune_wall_s': wall}},
                   out / 'experts' / f'{t}.pt')
    print(f'tuned: mean val task top-1 {history[-1]["val_task_top1_mean"]:.4f}, all-{len(experts)}-task consolidated val top-1 '
          f'{history[-1]["val_all_top1"]:.4f}, {wall:.0f}s', flush=True)


def earlier_tunings(lib_ck):
    """The tunings a base that was itself tuned went through, oldest first, so a pool tuned twice says so."""
    if 'tune_cfg' not in lib_ck:
        return []
    c = lib_ck['tune_cfg']
    return lib_ck.get('tune_before', []) + [{'epochs': c['epochs'], 'consolidation': c.get('consolidation', 0.0),
                                             'consolidation_query': c.get('consolidation_query', 0),
                                             'wall_s': lib_ck['metrics']['tune_wall_s']}]


def consolidation_loss(expert_logits, oracle_logits, cols, T, tasks=None):
    """KD from the oracle to the model consolidating every expert (their logits side by side). A query's softmax
    is this one restricted to its classes, so matching it ranks experts against each other as the oracle would.
    tasks (images x experts, bool): each image's own query; both softmaxes are then restricted to its classes."""
    order = torch.cat([cols[t] for t in expert_logits])
    z_e, z_o = torch.cat(list(expert_logits.values()), 1), oracle_logits[:, order]
    if tasks is not None:
        out = ~torch.repeat_interleave(tasks, torch.tensor([len(cols[t]) for t in expert_logits], device=tasks.device), 1)
        z_e, z_o = z_e.masked_fill(out, -1e4), z_o.masked_fill(out, -1e4)  # softmax 0 there, and 0 * log 0 stays finite
    return train.kd_loss(z_e, z_o, T)


def label_loss(expert_logits, cols, labels):
    """Cross-entropy from the true labels to the model consolidating every expert (their logits side by side):
    the ground truth, which the oracle only approximates, on the ranking that every query uses."""
    order = torch.cat([cols[t] for t in expert_logits])
    position = torch.full((int(order.max()) + 1,), -100, dtype=torch.long, device=order.device)
    position[order] = torch.arange(len(order), device=order.device)
    return torch.nn.functional.cross_entropy(torch.cat(list(expert_logits.values()), 1), position[labels], ignore_index=-100)


def random_queries(own, n_tasks, largest, gen):
    """For each image, a random query of 2..largest of the n_tasks tasks that contains the image's own task own[i]."""
    b = len(own)
    size = torch.as_tensor(gen.integers(2, largest + 1, b), device=own.device)
    score = torch.as_tensor(gen.random((b, n_tasks)), dtype=torch.float32, device=own.device)
    score[torch.arange(b, device=own.device), own] = 2.0
    rank = score.argsort(1, descending=True).argsort(1)
    return rank < size[:, None]


def consolidated_val(library, experts, cols, xv, yv, device):
    """Each expert's top-1 among its classes, and the model consolidating every expert (argmax over all logits)."""
    feats = train.predict(library, xv, device)
    with torch.no_grad():
        logits = {t: e(feats.to(device)).float().cpu() for t, e in experts.items()}
    yv_t = torch.as_tensor(yv)
    accs = {}
    for t, z in logits.items():
        mask = torch.isin(yv_t, cols[t].cpu())
        accs[t] = float((cols[t].cpu()[z[mask].argmax(1)] == yv_t[mask]).float().mean())
    all_cols = torch.cat([cols[t].cpu() for t in logits])
    pred = all_cols[torch.cat(list(logits.values()), 1).argmax(1)]
    covered = torch.isin(yv_t, all_cols)
    return {'val_task_top1_mean': float(np.mean(list(accs.values()))), 'val_all_top1': float((pred[covered] == yv_t[covered]).float().mean()),
            'val_task_top1': accs}


if __name__ == '__main__':
    main(sys.argv[1:])
