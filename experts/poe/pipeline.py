"""Runs a build's stages in order. A finished stage (its output file exists, made under the same recipe) is skipped;
an interrupted one resumes from its last epoch checkpoint; a stage whose recipe changed is refused by name."""
import sys
from pathlib import Path

import torch

from . import checkpoint, plan, runtime, settings, stages, transport
from .context import Build
from .loop import BudgetSpent

DISTRIBUTED = ('oracle', 'teacher', 'library')  # the stages torchrun runs; the others train small modules in one process


def stage_list(b):
    """(stage, output file name, run) in order; the settings' --stages picks which run."""
    todo = [('oracle', 'oracle', stages.run_oracle), ('teacher', 'teacher_cache', stages.run_teacher),
            ('library', 'library', stages.run_library), ('experts', 'experts', stages.run_experts)]
    todo += [('tune', f'tune-{r}', lambda b, r=r, w=w: stages.run_tune(b, r, w)) for r, w in b.tunings()]
    if settings.averaged(b.cfg):
        todo.append(('average', 'average', stages.run_average))
    todo.append(('export', None, stages.run_export))
    wanted = settings.stages(b.cfg)
    return [t for t in todo if t[0] in wanted]


def finished(b, stage, output):
    """Whether a stage's output is there (and made under today's recipe, else refused); the teacher cache also counts
    as finished when every stage that learns from it is."""
    path = b.path(output) if output else None
    if stage == 'teacher':
        if path.exists():
            cache = torch.load(path, map_location='cpu')
            meta = cache['meta']
            if (meta['views'], meta['seed']) != (b.cfg['teacher_views'], b.cfg['teacher_seed']):
                raise SystemExit(f'error: {path} was made with other settings (teacher_views {meta["views"]}, teacher_seed '
                                 f'{meta["seed"]}); delete it (and the stages after it) to redo it with these, or use another --out')
            if cache['done'] == meta['views']:
                return True
        last = 'average' if settings.averaged(b.cfg) else f'tune-{len(b.tunings())}'
        return b.path(last).exists()
    if path is None or not path.exists():
        return False
    ck = checkpoint.load(path)
    want = b.recipe('tune', consolidation=dict(b.tunings())[int(output[5:])]) if stage == 'tune' else b.recipe(stage)
    if 'adopted_from' not in ck and ck['settings'] != want:
        changed = sorted(k for k in {**ck['settings'], **want} if ck['settings'].get(k) != want.get(k))
        raise SystemExit(f'error: {path} was made with other settings ({", ".join(changed)}); delete it (and the stages after it) '
                         f'to redo it with these, or use another --out')
    return True


def adopt_oracle(src, out, compact):
    """An oracle trained before (--oracle_from) as this build's oracle.pt, once it loads as the WideResNet it names."""
    from .evaluate import load_oracle, oracle_name
    dst = out / 'oracle.pt'
    if dst.exists():
        return
    if not Path(src).exists():
        raise SystemExit(f'error: --oracle_from={src}: no such file')
    _, ck = load_oracle(src)
    ck = {**ck, 'adopted_from': str(src), 'settings': {'adopted_from': str(src)}}
    if compact:
        ck['state_dict'] = checkpoint.half(ck['state_dict'])
    checkpoint.save(dst, **ck)
    runtime.log(f'oracle {oracle_name(ck)} taken from {src}')


def adopt_own_oracle(b):
    """--oracle: a module of your own, with its weights, as this build's teacher; checked on validation images."""
    from .evaluate import own_oracle
    if b.path('oracle').exists():
        return
    model = own_oracle(b.cfg['oracle'])
    weights = runtime.repo_path(b.cfg['oracle_weights'])
    try:
        state = torch.load(weights, map_location='cpu')
        state = state.get('state_dict', state) if isinstance(state, dict) else state
        model.load_state_dict(state)
    except FileNotFoundError:
        raise SystemExit(f'error: --oracle_weights={weights}: no such file')
    except Exception as e:  # a torn file, other keys or shapes
        raise SystemExit(f'error: --oracle_weights={weights} does not load into {b.cfg["oracle"]} ({e})')
    with torch.no_grad():
        out = model.eval()(torch.zeros(2, b.dataset.channels, b.dataset.size, b.dataset.size))
    if out.shape != (2, len(b.class_names)):
        raise SystemExit(f'error: --oracle={b.cfg["oracle"]} gives {tuple(out.shape[1:])} outputs for an image; '
                         f'this dataset has {len(b.class_names)} classes')
    top1 = b.val_top1(model.to(b.device))
    checkpoint.save(b.path('oracle'), stage='oracle', factory=b.cfg['oracle'], state_dict={k: v.cpu() for k, v in model.state_dict().items()},
                    adopted_from=str(weights), settings={'adopted_from': str(weights)}, arch={'own': b.cfg['oracle']},
                    metrics={'val_top1': top1})
    runtime.log(f'oracle {b.cfg["oracle"]} from {weights}: {100 * top1:.1f} % on validation')


def run(cfg, config):
    out = runtime.repo_path(cfg['out'] or f'experts/checkpoints/{config}')
    if cfg['data_parts']:
        cfg = {**cfg, 'data': str(transport.join_parts(cfg['data_parts'], out.parent / (out.name + '-data')))}
    if cfg['resume_from']:
        transport.unpack(cfg['resume_from'], out)
    out.mkdir(parents=True, exist_ok=True)
    b = Build(cfg, config)  # under torchrun, this joins the process group
    if cfg['oracle_from'] and runtime.is_main():
        adopt_oracle(runtime.repo_path(cfg['oracle_from']), out, bool(cfg['return_dir']))
    if cfg['oracle'] and runtime.is_main():
        adopt_own_oracle(b)
    runtime.barrier()
    runtime.log(f'build {config} in {b.out}: {len(b.images)} training images, {b.device}, {b.precision}')
    if cfg['plan_epochs']:
        plan.apply(b)
    try:
        for stage, output, fn in stage_list(b):
            if runtime.world()[1] > 1 and stage not in DISTRIBUTED:
                runtime.log(f'== {stage}: runs in one process; rerun the same command without torchrun to go on')
                return
            shown = output if stage == 'tune' else stage
            if finished(b, stage, output):
                runtime.log(f'== {shown}: done already')
                continue
            runtime.log(f'== {shown}' + (f' ({b.time_left():.0f} s of the budget left)' if cfg['budget_s'] else ''))
            fn(b)
            runtime.barrier()  # under torchrun, the next stage reads what the main process just saved
            if output and runtime.is_main():
                (b.out / f'{output}.ckpt').unlink(missing_ok=True)
            b.pack()
    except BudgetSpent as e:
        runtime.log(f'{e}; rerun the same command to go on' + (' (with --resume_from)' if cfg['return_dir'] else ''))
        sys.exit(3)
    runtime.log(f'== build {config} complete in {b.out}')
