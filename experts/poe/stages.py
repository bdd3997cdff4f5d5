"""The stages of a build, in order (POE.md): oracle (labels) -> teacher cache -> library (KD) -> experts (CKD) ->
joint tunings of library and experts (CKD + consolidation term) -> their average -> export.

Each training stage is a job (its modules, optimiser and step, poe/loop.py trains it) and an output file in the
build folder. The jobs are also what the budget planner times (poe/plan.py), so it measures the real steps.
"""
import json

import torch
import torch.nn.functional as F

from . import checkpoint, evaluate, experts, runtime, settings, teacher
from .losses import ckd_loss, consolidation_loss, kd_loss
from .loop import Job, sgd
from .pool_export import write_pool
from .wrn import Expert, Library, WideResNet, count_params

LIBRARY_DEPTH_WIDEN = (16, 1)  # the library is conv1 + block1 + block2 of a WRN-16-1 student


def library_arch(b):
    """Library(*library_arch(b)): a WRN-16-1's lower part for the dataset's channels and size."""
    return (*LIBRARY_DEPTH_WIDEN, b.dataset.channels, b.dataset.size)


def wrn(b, depth, widen):
    return WideResNet(depth, widen, len(b.class_names), **b.arch())


def on_device(module, b):
    return module.to(b.device).to(memory_format=torch.channels_last)


def step_with(opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


# -- jobs ---------------------------------------------------------------------------------------------------------

def oracle_job(b):
    c = b.cfg
    torch.manual_seed(c['oracle_seed'])
    model = on_device(wrn(b, c['oracle_depth'], c['oracle_widen']), b)
    net = runtime.parallel(model)
    opt = sgd(model.parameters(), c['oracle_lr'], c['weight_decay'])

    def step(idx, gen):
        x, y = runtime.shard(b.images.augmented(idx, gen), b.y[idx.to(b.y.device)].to(b.device))
        with b.autocast():
            loss = F.cross_entropy(net(x), y)
        step_with(opt, loss)
        return loss

    return Job('oracle', {'model': model}, opt, step, lambda: {'val_top1': b.val_top1(model)}, c['oracle_epochs'],
               c['oracle_batch'], c['oracle_lr'], c['oracle_seed'], b.recipe('oracle'))


def library_job(b, cache):
    c = b.cfg
    torch.manual_seed(c['library_seed'])
    student = on_device(wrn(b, *LIBRARY_DEPTH_WIDEN), b)
    net = runtime.parallel(student)
    opt = sgd(student.parameters(), c['library_lr'], c['weight_decay'])

    def step(idx, gen):
        x, z = runtime.shard(*cache.batch(b.images, idx, gen))
        with b.autocast():
            loss = kd_loss(net(x).float(), z, c['temperature'])
        step_with(opt, loss)
        return loss

    return Job('library', {'student': student}, opt, step, lambda: {'val_top1': b.val_top1(student)}, c['library_epochs'],
               c['library_batch'], c['library_lr'], c['library_seed'], b.recipe('library'))


def new_experts(b, library):
    torch.manual_seed(b.cfg['expert_seed'])
    members = [Expert(library.out_channels, b.cfg['expert_width'], len(cls)) for cls in b.tasks.values()]
    return on_device(experts.group(members, b.cfg['stack_experts']), b)


def experts_job(b, cache, library, group):
    """CKD of every expert from the frozen library's features."""
    c, (cols, mask, counts) = b.cfg, b.columns()
    library = on_device(library, b).eval()
    opt = sgd(group.parameters(), c['expert_lr'], c['weight_decay'])

    def step(idx, gen):
        x, z = cache.batch(b.images, idx, gen)
        with b.autocast():
            with torch.no_grad():
                feats = library(x)
            loss = ckd_loss(group(feats).float(), b.teacher_columns(z, cols, mask), c['temperature'], c['alpha'], counts)
        step_with(opt, loss)
        return loss / len(cols)

    return Job('experts', {'experts': group}, opt, step, lambda: b.val_metrics(library, group), c['expert_epochs'],
               c['expert_batch'], c['expert_lr'], c['expert_seed'], b.recipe('experts'))


def tune_job(b, cache, library, group, run, weight):
    """Library and experts trained together on the experts' CKD losses plus the consolidation term, so the library's
    features become the ones small experts use best and the experts' logits rank against each other as the oracle's."""
    c, (cols, mask, counts) = b.cfg, b.columns()
    library = on_device(library, b)
    modules = {'library': library, 'experts': group}
    opt = sgd([p for m in modules.values() for p in m.parameters()], c['tune_lr'], c['weight_decay'])

    def step(idx, gen):
        x, z = cache.batch(b.images, idx, gen)
        with b.autocast():
            z_e, z_o = group(library(x)).float(), b.teacher_columns(z, cols, mask)
            loss = ckd_loss(z_e, z_o, c['temperature'], c['alpha'], counts)
            if weight:
                loss = loss + weight * len(cols) * consolidation_loss(z_e, z_o, c['temperature'])
        step_with(opt, loss)
        return loss / len(cols)

    return Job(f'tune-{run}', modules, opt, step, lambda: b.val_metrics(library, group), c['tune_epochs'], c['tune_batch'],
               c['tune_lr'], c['tune_seed'], b.recipe('tune', consolidation=weight))


# -- stages -------------------------------------------------------------------------------------------------------

def run_oracle(b):
    job = oracle_job(b)
    runtime.log(f'oracle WRN-{b.cfg["oracle_depth"]}-{b.cfg["oracle_widen"]}: {count_params(job.modules["model"]):,} parameters, '
                f'{len(b.images)} images')
    history, wall = b.train(job)
    if runtime.is_main():
        state = {k: v.cpu() for k, v in job.modules['model'].state_dict().items()}
        checkpoint.save(b.path('oracle'), stage='oracle', settings=job.settings, history=history,
                        state_dict=checkpoint.half(state) if b.compact() else state,
                        arch={'depth': b.cfg['oracle_depth'], 'widen': b.cfg['oracle_widen'], **b.arch()},
                        metrics={'val_top1': history[-1]['val_top1'], 'wall_s': wall, 'params': count_params(job.modules['model']),
                                 'epochs': b.cfg['oracle_epochs'], 'precision': b.precision, 'machine': b.machine()})


def run_teacher(b):
    oracle, _ = evaluate.load_oracle(b.path('oracle'), b.device)
    oracle = runtime.inference_model(oracle, b.device, b.cfg['precision'])
    teacher.build(oracle, b.path('oracle'), b.images, b.path('teacher_cache'), b.cfg['teacher_views'], b.cfg['teacher_seed'],
                  b.cfg['precision'])


def library_of(ck):
    """The library (conv1, block1, block2) of library.pt's student."""
    lib = Library(*ck['library_arch'])
    lib.load_state_dict({k: v for k, v in ck['student'].items() if k.split('.')[0] in ('conv1', 'block1', 'block2')})
    return lib


def run_library(b):
    job = library_job(b, b.cache())
    history, wall = b.train(job)
    if runtime.is_main():
        student = {k: v.cpu() for k, v in job.modules['student'].state_dict().items()}
        checkpoint.save(b.path('library'), stage='library', settings=job.settings, history=history, student=student,
                        library_arch=library_arch(b),
                        metrics={'student_val_top1': history[-1]['val_top1'], 'wall_s': wall, 'epochs': b.cfg['library_epochs'],
                                 'params': count_params(Library(*library_arch(b))), 'precision': b.precision, 'machine': b.machine()})


def save_experts(b, output, recipe, library, group, history, wall, **extra):
    """A stage output holding the library and every expert (experts, tune-N, average)."""
    states = group.expert_states()
    checkpoint.save(b.path(output), stage=output, settings=recipe, history=history,
                    library={k: v.cpu() for k, v in library.state_dict().items()}, library_arch=library_arch(b),
                    experts={t: {k: v.cpu() for k, v in s.items()} for t, s in zip(b.tasks, states)},
                    tasks=b.tasks, class_names={t: [b.class_names[i] for i in cls] for t, cls in b.tasks.items()},
                    metrics={**{k: v for k, v in history[-1].items() if k.startswith('val_')}, 'wall_s': wall,
                             'precision': b.precision, 'machine': b.machine()}, **extra)
    runtime.log(f'[{output}] mean expert val top-1 {history[-1]["val_task_top1_mean"]:.4f}, all {len(b.tasks)} experts at once '
                f'{history[-1]["val_all_top1"]:.4f}')


def run_experts(b):
    library = library_of(b.load('library'))
    job = experts_job(b, b.cache(), library, new_experts(b, library))
    history, wall = b.train(job)
    save_experts(b, 'experts', job.settings, library, job.modules['experts'], history, wall, epochs=b.cfg['expert_epochs'])


def load_group(b, output):
    """(library, experts as one module) from a stage output, on the device."""
    lib, members, _ = evaluate.library_and_experts(b.load(output))
    return on_device(lib, b), on_device(experts.group([members[t] for t in b.tasks], b.cfg['stack_experts']), b)


def run_tune(b, run, weight):
    library, group = load_group(b, 'experts' if run == 1 else f'tune-{run - 1}')
    job = tune_job(b, b.cache(), library, group, run, weight)
    history, wall = b.train(job)
    save_experts(b, f'tune-{run}', job.settings, library, group, history, wall, epochs=b.cfg['tune_epochs'], consolidation=weight)


def average_states(states):
    """The uniform average of state_dicts; integer tensors (batch-norm batch counters) are the first's."""
    first = states[0]
    return {k: sum(s[k] for s in states) / len(states) if v.is_floating_point() else v for k, v in first.items()}


def run_average(b):
    """The weights (batch-norm statistics included) of the last tune_average tunings averaged ("model soup")."""
    runs = settings.averaged(b.cfg)
    cks = [b.load(f'tune-{r}') for r in runs]
    lib, members, _ = evaluate.library_and_experts(cks[0])
    lib.load_state_dict(average_states([ck['library'] for ck in cks]))
    for t, e in members.items():
        e.load_state_dict(average_states([ck['experts'][t] for ck in cks]))
    group = experts.ExpertLoop([members[t] for t in b.tasks]).eval()
    history = [b.val_metrics(on_device(lib, b).eval(), on_device(group, b))]
    save_experts(b, 'average', b.recipe('average'), lib, group, history, 0.0, averaged=[f'tune-{r}' for r in runs])


# -- export -------------------------------------------------------------------------------------------------------

def run_export(b):
    """The pool, with the figures the app shows: test top-1 of the oracle and of the library's student."""
    xt, yt = b.dataset.test or b.dataset.val
    final = evaluate.final_output(b.out)
    lib, members, tasks = evaluate.library_and_experts(checkpoint.load(final))
    oracle, oracle_ck = evaluate.load_oracle(b.path('oracle'), b.device)
    oracle_test = float((runtime.predict(runtime.inference_model(oracle, b.device, 'fp32'), xt, b.device, stats=b.stats).argmax(1).numpy() == yt).mean())
    lib_ck = b.load('library')
    student = wrn(b, *LIBRARY_DEPTH_WIDEN)
    student.load_state_dict(lib_ck['student'])
    student_test = float((runtime.predict(student.eval(), xt, b.device, stats=b.stats).argmax(1).numpy() == yt).mean())
    metrics = build_metrics(b, oracle_ck, oracle_test, lib_ck, student_test, checkpoint.load(final))
    (b.out / 'metrics.json').write_text(json.dumps(metrics, indent=1) + '\n')
    pool = runtime.repo_path(b.cfg['pool'] or f'public/pools/{b.config}')
    write_pool(pool, lib, members, tasks, b.class_names, (xt, yt), b.cfg['name'] or b.config, sources={'build': str(b.out)},
               metrics=metrics, input_spec=b.dataset.input_spec())
    runtime.log(f'oracle {"test" if b.dataset.test else "validation (no test split)"} top-1 {oracle_test:.4f}, library student {student_test:.4f}')


def build_metrics(b, oracle_ck, oracle_test, lib_ck, student_test, final):
    """The manifest's account of the build: each stage's figures, epochs and wall time."""
    o = oracle_ck.get('metrics', {})
    cache = checkpoint.load(b.path('teacher_cache')) if b.path('teacher_cache').exists() else None
    tunes = [checkpoint.load(b.path(f'tune-{r}')) for r, _ in b.tunings() if b.path(f'tune-{r}').exists()]
    ex = b.load('experts')
    walls = {'oracle': o.get('wall_s'), 'teacher cache': cache['wall_s'] if cache else None, 'library': lib_ck['metrics']['wall_s'],
             'experts': ex['metrics']['wall_s'], 'joint tuning': sum(t['metrics']['wall_s'] for t in tunes) if tunes else None}
    machines = sorted({ck['metrics'].get('machine') for ck in [oracle_ck, lib_ck, ex, *tunes] if ck.get('metrics', {}).get('machine')})
    return {
        'oracle': {'arch': evaluate.oracle_name(oracle_ck), 'test_top1': oracle_test,
                   'val_top1': o.get('val_top1'), 'epochs': o.get('epochs'), 'params': o.get('params'),
                   'trainImages': len(b.images), **({'adoptedFrom': oracle_ck['adopted_from']} if 'adopted_from' in oracle_ck else {})},
        'library': {'student_test_top1': student_test, 'student_val_top1': lib_ck['metrics']['student_val_top1'],
                    'params': lib_ck['metrics']['params'], 'epochs': lib_ck['metrics']['epochs'], 'wall_s': lib_ck['metrics']['wall_s']},
        'experts': {'epochs': ex['epochs'], 'wall_s': ex['metrics']['wall_s'], 'valTaskTop1': final['metrics']['val_task_top1'],
                    'valAllTop1': final['metrics']['val_all_top1']},
        'stageWallSeconds': {k: v for k, v in walls.items() if v is not None},
        **({'teacherCache': {'views': cache['meta']['views'], 'flip': True, 'wall_s': cache['wall_s']}} if cache else {}),
        **({'jointTuning': {'epochs': sum(t['epochs'] for t in tunes), 'consolidation': tunes[-1]['consolidation'],
                            'wall_s': walls['joint tuning'],
                            'runs': [{'epochs': t['epochs'], 'consolidation': t['consolidation'], 'wall_s': t['metrics']['wall_s']} for t in tunes],
                            **({'averaged': {'lastRuns': len(final['averaged']), 'weight': 1 / len(final['averaged'])}} if 'averaged' in final else {})}}
           if tunes else {}),
        'machine': ', '.join(machines),
    }
