"""One command from the dataset to a pool: oracle -> teacher cache -> library -> 20 CKD experts ->
library and experts tuned jointly (three runs, the last two averaged) -> export.

  /usr/bin/python3 experts/build_pool.py --quick            # ~3 minutes on 2 cores, rough pool
  /usr/bin/python3 experts/build_pool.py                    # the full CPU build (hours)
  /usr/bin/python3 experts/build_pool.py --device=cuda --oracle_widen=10 --oracle_depth=28

A finished stage (its .pt output exists) is skipped; an interrupted one resumes from its last
epoch checkpoint. Each stage's wall time and metrics go into the pool manifest.
Output: the pool folder --pool (default public/pools/quick or public/pools/cifar100).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from poe import config, data
from tune_library import earlier_tunings

HERE = Path(__file__).resolve().parent
DEFAULTS = {
    'out': '',              # checkpoint folder (default experts/checkpoints/quick or /full)
    'pool': '',             # pool folder to write (default public/pools/quick or public/pools/cifar100)
    'name': '',             # pool name (default cifar100-quick or cifar100)
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'device': 'cpu',
    'precision': 'auto',    # auto | bf16 | fp32: auto picks bf16 autocast only where the hardware has native bf16
    'oracle_depth': 0,      # 0 = the stage's default
    'oracle_widen': 0,
    'oracle_epochs': 0,
    'library_epochs': 0,
    'expert_epochs': 0,
    'teacher_views': 10,    # >0: library and experts learn from a cache of this many oracle views per image (cache_teacher.py); 0: the oracle runs every step
    'teacher_seeds': '3',   # one cache of --teacher_views views per seed, comma-separated; every stage learns from all their views (3,4: 20 views)
    'jobs': 2,              # parallel processes for the expert stage (2 pays on 2 cores with a teacher cache)
    'tune_epochs': 60,      # >0: tune_library.py fine-tunes library and experts jointly into OUT/tuned, which is exported; 0 skips it
    'tune_consolidation': '0.1,0.2',  # tune_library.py --consolidation per run, comma-separated (the last repeats): weight of KD to all experts side by side; 0 turns it off (EXPERIMENTS.md sections 7, 12)
    'tune_runs': 3,         # joint tunings one after another, each from the last one's library and experts (EXPERIMENTS.md sections 11, 14)
    'tune_average': True,   # the exported build averages the weights of the last two runs (average_builds.py, EXPERIMENTS.md section 16); needs --tune_runs of 2 or more
    'tune_consolidation_query': 0,  # tune_library.py --consolidation_query: 0 all experts, N >= 2 a random query of 2..N per image
    'n_train': 0,           # first n training images only, in every stage (0 = all 45,000; for tests)
}


def run_stage(script, args, done_file, log):
    if done_file.exists():
        print(f'== {script}: done already ({done_file.name} exists), skipping', flush=True)
        return 0.0
    print(f'== {script} {" ".join(args)}', flush=True)
    t0 = time.time()
    code = subprocess.call([sys.executable, str(HERE / script), *args], cwd=HERE)
    if code:
        raise SystemExit(f'error: {script} failed with exit status {code}; rerun the same command to resume')
    return time.time() - t0


def joint_tuning_metrics(library):
    """The manifest's joint tuning: its last run's settings, with the epochs and wall time of every run it went
    through (a pool tuned again from a tuned pool lists both runs)."""
    if 'tune_cfg' not in library:
        return None
    c = library['tune_cfg']
    runs = earlier_tunings(library)  # the runs before it, then this one
    return {'epochs': sum(r['epochs'] for r in runs), 'consolidation': c.get('consolidation', 0.0),
            'consolidationQuery': c.get('consolidation_query', 0), 'wall_s': sum(r['wall_s'] for r in runs),
            **({'runs': [{'epochs': r['epochs'], 'consolidation': r.get('consolidation', 0.0), 'wall_s': r['wall_s']}
                         for r in runs]} if len(runs) > 1 else {}),
            **({'averaged': {'lastRuns': 2, 'weight': library['soup']['weight']}} if 'soup' in library else {})}


def consolidation_weights(text, runs):
    """--tune_consolidation as one weight per tuning run: '0.1,0.2' gives run 1 0.1 and every later run 0.2
    (with --tune_runs=1, only 0.1)."""
    try:
        weights = [float(w) for w in str(text).split(',')]
    except ValueError:
        raise SystemExit(f'error: --tune_consolidation={text} is not a comma-separated list of numbers (for example 0.1,0.2)')
    if any(w < 0 for w in weights):
        raise SystemExit(f'error: --tune_consolidation={text}: a consolidation weight cannot be negative')
    return (weights + [weights[-1]] * runs)[:runs]


def cache_file_names(seeds):
    """--teacher_seeds as {seed: cache file}: the first seed's cache is teacher_cache.pt, seed s's after it teacher_cache_s<s>.pt."""
    try:
        seeds = [int(s) for s in str(seeds).split(',')]
    except ValueError:
        raise SystemExit(f'error: --teacher_seeds={seeds} is not a comma-separated list of integers (for example 3,4)')
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f'error: --teacher_seeds={",".join(map(str, seeds))} repeats a seed; each cache needs its own views')
    return {s: 'teacher_cache.pt' if i == 0 else f'teacher_cache_s{s}.pt' for i, s in enumerate(seeds)}


def teacher_cache_metrics(outp, final):
    """The caches the experts learnt from, if they did: views (all caches together), flip and the time they took to build."""
    cfg = torch.load(outp / 'experts' / 'people.pt', map_location='cpu')['cfg']
    if not cfg.get('teacher_cache'):
        return None
    paths = [outp / f for f in cfg['teacher_cache'].split(',')]
    if not all(p.exists() for p in paths):  # not committed (91 MB each): a build folder from git keeps the figures in its metrics.json
        known = json.loads((final / 'metrics.json').read_text()).get('teacherCache') if (final / 'metrics.json').exists() else None
        if known is None:
            missing = next(p for p in paths if not p.exists())
            raise SystemExit(f'error: {missing} is gone and {final / "metrics.json"} does not record it; rebuild it with cache_teacher.py')
        return known
    metas = [torch.load(p, map_location='cpu') for p in paths]
    return {'views': sum(m['meta']['views'] for m in metas), 'flip': metas[0]['meta']['flip'],
            'wall_s': sum(m.get('wall_s', 0.0) for m in metas),
            **({'seeds': [m['meta']['seed'] for m in metas]} if len(metas) > 1 else {})}


def opt_n(cfg):
    return [f'--n_train={cfg["n_train"]}'] if cfg['n_train'] else []


def main(argv):
    quick = '--quick' in argv
    argv = [a for a in argv if a != '--quick']
    cfg = config.parse(DEFAULTS, argv, __doc__)
    kind = 'quick' if quick else 'full'
    out = cfg['out'] or f'experts/checkpoints/{kind}'
    pool = Path(cfg['pool'] or Path('public') / 'pools' / ('quick' if quick else 'cifar100'))
    pool = pool if pool.is_absolute() else data.REPO_ROOT / pool  # stages run in experts/, so anchor relative paths
    name = cfg['name'] or ('cifar100-quick' if quick else 'cifar100')
    try:
        data.data_dir(cfg['data'] or None)
    except data.DataMissing as e:
        raise SystemExit(f'error: {e}')
    common = [f'--out={out}', f'--device={cfg["device"]}', f'--precision={cfg["precision"]}'] + ([f'--data={cfg["data"]}'] if cfg['data'] else []) + (['--quick'] if quick else []) + opt_n(cfg)
    opt = lambda key, flag: [f'--{flag}={cfg[key]}'] if cfg[key] else []
    outp = Path(out) if Path(out).is_absolute() else data.REPO_ROOT / out
    t_total = time.time()
    weights = consolidation_weights(cfg['tune_consolidation'], max(1, cfg['tune_runs']))  # a bad list fails before any stage
    cache_files = cache_file_names(cfg['teacher_seeds'])
    run_stage('train_oracle.py', common + opt('oracle_depth', 'depth') + opt('oracle_widen', 'widen') + opt('oracle_epochs', 'epochs'), outp / 'oracle.pt', None)
    if cfg['tune_epochs'] and not cfg['teacher_views']:
        raise SystemExit('error: --tune_epochs needs the teacher cache (--teacher_views above 0), or --tune_epochs=0 to skip the tuning')
    final = outp / 'tuned' if cfg['tune_epochs'] else outp  # the folder exported
    cache = []
    if cfg['teacher_views']:
        views = 2 if quick else cfg['teacher_views']
        # the library and the experts both learn from them; resumable, and quick to confirm once finished
        for seed, file in cache_files.items():
            run_stage('cache_teacher.py', common + [f'--views={views}', f'--seed={seed}', f'--file={file}'], final / 'experts' / 'people.pt', None)
        cache = ['--teacher_cache=' + ','.join(cache_files.values())]
    run_stage('train_library.py', common + opt('library_epochs', 'epochs') + cache, outp / 'library.pt', None)
    run_stage('train_experts.py', common + opt('expert_epochs', 'epochs') + cache + [f'--jobs={cfg["jobs"]}'], outp / 'experts' / 'people.pt', None)
    if cfg['tune_epochs']:
        runs = 1 if quick else max(1, cfg['tune_runs'])
        average = cfg['tune_average'] and runs > 1
        if (final / 'experts' / 'people.pt').exists():
            runs, average = 0, False  # finished: one skip message, whatever the folders of earlier runs hold
            print(f'== tune_library.py: done already ({final.name}/experts/people.pt exists), skipping', flush=True)
        base = outp
        for i in range(1, runs + 1):
            out_i = final if i == runs and not average else outp / f'tuned-{i}'  # each run starts from the one before
            tune = [f'--base={base}', f'--out={out_i}', f'--epochs={2 if quick else cfg["tune_epochs"]}',
                    f'--consolidation={weights[i - 1]}',  # passed when 0 too: 0 turns the term off
                    f'--consolidation_query={cfg["tune_consolidation_query"]}',
                    '--teacher_cache=' + ','.join(str(outp / f) for f in cache_files.values())] + common[1:]
            run_stage('tune_library.py', tune, out_i / 'experts' / 'people.pt', None)
            base = out_i
        if average:
            soup = [f'--a={outp / f"tuned-{runs - 1}"}', f'--b={base}', f'--out={final}'] + ([f'--data={cfg["data"]}'] if cfg['data'] else [])
            run_stage('average_builds.py', soup, final / 'experts' / 'people.pt', None)
    oracle = torch.load(outp / 'oracle.pt', map_location='cpu')
    cache = teacher_cache_metrics(outp, final)
    library = torch.load(final / 'library.pt', map_location='cpu')
    experts = {p.stem: torch.load(p, map_location='cpu') for p in sorted((final / 'experts').glob('*.pt'))}
    tuned = joint_tuning_metrics(library)
    metrics = {
        'oracle': {'arch': f'WRN-{oracle["arch"]["depth"]}-{oracle["arch"]["widen"]}', **oracle['metrics'],
                   'epochs': oracle['cfg']['epochs'], 'trainImages': oracle['cfg']['n_train'] or 45000},
        'library': {**library['metrics'], 'epochs': library['cfg']['epochs']},
        'experts': {'epochs': next(iter(experts.values()))['cfg']['epochs'],
                    'wall_s': max(e['metrics']['wall_s'] for e in experts.values()),
                    'valTaskTop1': {k: e['metrics']['val_task_top1'] for k, e in experts.items()}},
        'stageWallSeconds': {'oracle': oracle['metrics']['wall_s'], 'library': library['metrics']['wall_s'],
                             **({'teacher cache': cache['wall_s']} if cache else {}),
                             'experts': max(e['metrics']['wall_s'] for e in experts.values()),
                             **({'joint tuning': tuned['wall_s']} if tuned else {})},
        **({'teacherCache': cache} if cache else {}),
        **({'jointTuning': tuned} if tuned else {}),
        'machine': f'{os.cpu_count()} CPU cores' if cfg['device'] == 'cpu' else cfg['device'],
    }
    mpath = final / 'metrics.json'
    mpath.write_text(json.dumps(metrics, indent=1))
    export = [sys.executable, str(HERE / 'export_pool.py'), '--build', str(final), '--out', str(pool), '--name', name,
              '--metrics', str(mpath)] + (['--data', cfg['data']] if cfg['data'] else [])
    if subprocess.call(export, cwd=HERE):
        raise SystemExit('error: export failed')
    print(f'== pool written to {pool} ({time.time() - t_total:.0f}s in this run)', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
