"""Epochs that fill a time budget (--plan_epochs with --budget_s, for a lent GPU): a few timed steps of each stage's
real job on untrained models and a stand-in teacher cache, then each stage gets a share of what is left after
the teacher cache. Kept in OUT/plan.json, so a resumed run trains the same epochs."""
import json
import math
import time

import torch

from . import runtime, settings, stages
from .losses import teacher_logits
from .teacher import TeacherCache
from .wrn import Library

# shares of the budget left after the teacher cache (the rest is spare), and the most epochs each stage may take
SHARES = {'oracle': 0.55, 'library': 0.13, 'experts': 0.08, 'tune': 0.12}
SHARES_WITHOUT_ORACLE = {'library': 0.25, 'experts': 0.10, 'tune': 0.53}  # on the CPU the tunings decided (EXPERIMENTS 21)
CAPS = {'oracle': 200, 'library': 200, 'experts': 100, 'tune': 300}
KEYS = {'oracle': 'oracle_epochs', 'library': 'library_epochs', 'experts': 'expert_epochs', 'tune': 'tune_epochs'}


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def epoch_seconds(b, job, steps=12, at_most_s=2.0):
    """One epoch of job: its step timed after a warm-up (12 steps, fewer where they take over 2 s), times the steps
    an epoch takes, plus its validation."""
    gen, n = torch.Generator().manual_seed(0), len(b.images)
    idx = torch.arange(min(job.batch, n))
    for _ in range(3):
        job.step(idx, gen)
    sync(b.device)
    t0, done = time.time(), 0
    while done < steps and (done < 2 or time.time() - t0 < at_most_s):
        job.step(idx, gen)
        sync(b.device)
        done += 1
    step_s = (time.time() - t0) / done
    for m in job.modules.values():
        m.eval()
    if b.device.type == 'cuda':
        job.evaluate()  # warm-up: cudnn's autotuning
        sync(b.device)
    t0 = time.time()
    job.evaluate()
    sync(b.device)
    return step_s * math.ceil(n / job.batch) + time.time() - t0


def stand_in_cache(b):
    n, k = len(b.images), b.cfg['teacher_views']
    return TeacherCache({'meta': {'views': k}, 'dx': torch.randint(0, 9, (n, k), dtype=torch.uint8),
                         'dy': torch.randint(0, 9, (n, k), dtype=torch.uint8),
                         'logits': torch.randn(n, k, len(b.class_names)).half()}).to(b.device if b.cfg['data_on_device'] else 'cpu')


def measure(b):
    trained = b.path('oracle').exists()
    cache = stand_in_cache(b)
    library = Library(*stages.library_arch(b))
    epoch_s = {'library': epoch_seconds(b, stages.library_job(b, cache)),
               'experts': epoch_seconds(b, stages.experts_job(b, cache, library, stages.new_experts(b, library))),
               'tune': epoch_seconds(b, stages.tune_job(b, cache, Library(*stages.library_arch(b)), stages.new_experts(b, library), 1, 0.1))}
    oracle_job = stages.oracle_job(b)
    if not trained:
        epoch_s['oracle'] = epoch_seconds(b, oracle_job)
    oracle = oracle_job.modules['model'].eval()
    x = b.images.augmented(torch.arange(min(500, len(b.images))), torch.Generator().manual_seed(0))
    with torch.no_grad(), b.autocast():
        for i in range(4):
            if i == 1:
                sync(b.device)
                t0 = time.time()
            teacher_logits(oracle, x)
    sync(b.device)
    cache_s = (time.time() - t0) / 3 * math.ceil(len(b.images) / len(x)) * b.cfg['teacher_views']
    return epoch_s, cache_s, trained


def choose(epoch_s, cache_s, left, runs):
    """Epochs per stage from the seconds an epoch takes, the seconds left and the number of joint tunings."""
    shares = SHARES if 'oracle' in epoch_s else SHARES_WITHOUT_ORACLE
    room = left - cache_s * 1.15
    plan = {}
    for stage, share in shares.items():
        per_run = share / runs if stage == 'tune' else share
        plan[KEYS[stage]] = max(1, min(CAPS[stage], int(room * per_run / (epoch_s[stage] * 1.15))))
    return plan


def apply(b):
    path = b.out / 'plan.json'
    if path.exists():
        plan = json.loads(path.read_text())
    else:
        epoch_s, cache_s, _ = measure(b)
        plan = choose(epoch_s, cache_s, b.time_left(), len(settings.tunings(b.cfg)))
        plan['epoch_seconds'], plan['teacher_cache_seconds'] = epoch_s, cache_s
        if runtime.is_main():
            path.write_text(json.dumps(plan, indent=1))
    for key in KEYS.values():
        if key in plan:
            b.cfg[key] = plan[key]
    runtime.log(f'plan: {json.dumps(plan)}')
