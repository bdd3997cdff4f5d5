"""A results file for any pool and the dataset it was built from (experts/tools/results.py is the CIFAR-100 one):
the oracle's test top-1, each expert on its own classes, the consolidated model over every combination of tasks
against the oracle on the same classes, the per-query Transfer baseline, and, given other builds of the same data
(--compare NAME=FOLDER), how their groupings do on random class-level queries (the app's "pick any classes").

  /usr/bin/python3 experts/tools/pool_results.py fashion \\
      --compare 'by hand (tops / footwear / the rest)=experts/checkpoints/fashion-hand'

CONFIG names the build (experts/configs/CONFIG.py): its data, classes, pool folder and build folder (the oracle);
--key=value overrides them as for experts/build.py.
Measured on the test split with the weights the pool serves (its TF.js files, read back); Transfer's learning rate
and weight decay are chosen on the validation split, and grouping figures are given on validation, then test.
"""
import argparse
import itertools
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import datasets, evaluate, settings, transfer  # noqa: E402
from poe.evaluate import query_eval, summarize  # noqa: E402
from poe.runtime import inference_model, predict, repo_path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLASS_QUERY_SIZES = (2, 3, 4, 5)
CLASS_QUERIES = 200


def class_query_eval(classes, tasks, logits, y):
    """A query of single classes, as the app consolidates it: each expert keeps only the picked classes' logits."""
    parts = [(t, [tasks[t].index(c) for c in classes if c in tasks[t]]) for t in tasks]
    parts = [(t, keep) for t, keep in parts if keep]
    cols = [tasks[t][k] for t, keep in parts for k in keep]
    owner = np.repeat(np.arange(len(parts)), [len(keep) for _, keep in parts])
    mask = np.isin(y, cols)
    z = np.concatenate([logits[t][mask][:, keep] for t, keep in parts], 1)
    truth = np.array([cols.index(c) for c in y[mask]])
    pred = z.argmax(1)
    wrong = pred != truth
    return float((~wrong).mean()), float((owner[pred[wrong]] != owner[truth[wrong]]).mean()) if wrong.any() else 0.0


def class_queries(n_classes, seed=0):
    rng = np.random.default_rng(seed)
    return {k: [sorted(rng.choice(n_classes, k, replace=False).tolist()) for _ in range(CLASS_QUERIES)] for k in CLASS_QUERY_SIZES if k <= n_classes}


def grouping_figures(lib, experts, tasks, split, stats, queries):
    x, y = split
    logits = evaluate.expert_logits(lib, experts, x, stats=stats)
    out = {}
    for k, qs in queries.items():
        rows = [class_query_eval(q, tasks, logits, y) for q in qs]
        out[k] = {'top1': 100 * float(np.mean([r[0] for r in rows])), 'cross': 100 * float(np.mean([r[1] for r in rows]))}
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='the build config (experts/configs/NAME.py)')
    p.add_argument('--compare', action='append', default=[], metavar='NAME=FOLDER', help='another build folder of the same data')
    p.add_argument('--hand', type=Path, help='a grouping written by hand (JSON, task: [class names]), compared with the shipped one')
    p.add_argument('--baseline-epochs', type=int, default=5)
    p.add_argument('--anchor', default='', help="a published figure to read the oracle's against (a sentence)")
    p.add_argument('--render-only', action='store_true', help='rewrite the results file from its .json (after a change to the layout)')
    p.add_argument('--results', type=Path, help='the results file (default: experts/RESULTS-<pool name>.md)')
    args, overrides = p.parse_known_args(argv)
    cfg, config = settings.resolve([args.config, *overrides])  # --pool=..., --out=... as for the build
    if args.render_only:
        out = args.results or REPO / 'experts' / f'RESULTS-{cfg["name"] or config}.md'
        res = json.loads(out.with_suffix('.json').read_text())
        res['anchor'] = args.anchor or res.get('anchor', '')
        out.with_suffix('.json').write_text(json.dumps(res, indent=1))
        out.write_text(render(res, {'name': cfg['name'] or config}))
        return print(f'wrote {out} from {out.with_suffix(".json").name}')
    torch.set_num_threads(os.cpu_count())
    t_start = time.time()
    pool_dir = repo_path(cfg['pool'] or f'public/pools/{config}')
    build_dir = repo_path(cfg['out'] or f'experts/checkpoints/{config}')
    manifest = json.loads((pool_dir / 'pool.json').read_text())
    ds = datasets.open_dataset(cfg['data'] or None, cfg['size'], cfg['classes'])
    stats = (manifest['input']['mean'], manifest['input']['std'])
    if ds.test is None:
        raise SystemExit(f'error: {ds.root} has no test split to report on')
    xte, yte = ds.test
    lib, experts, tasks = evaluate.load_pool(pool_dir)
    oracle, oracle_ck = evaluate.load_oracle(build_dir / 'oracle.pt')
    oracle = inference_model(oracle, torch.device('cpu'), 'fp32')
    cpu = torch.device('cpu')
    oracle_logits = predict(oracle, xte, cpu, stats=stats).numpy()
    logits = evaluate.expert_logits(lib, experts, xte, stats=stats)
    res = {'config': config, 'pool': str(pool_dir.relative_to(REPO) if pool_dir.is_relative_to(REPO) else pool_dir), 'data': str(ds.root), 'testImages': int(len(yte)),
           'classNames': ds.class_names, 'tasks': {t: [ds.class_names[c] for c in cs] for t, cs in tasks.items()},
           'oracle': {'arch': evaluate.oracle_name(oracle_ck), 'test_top1': float((oracle_logits.argmax(1) == yte).mean()),
                      'epochs': cfg['oracle_epochs'], 'trainImages': int(len(ds.train[1]))},
           'experts': {t: {'test_task_top1': v, 'params': sum(q.numel() for q in experts[t].parameters())}
                       for t, v in evaluate.task_top1(logits, tasks, yte).items()},
           'combinations': [], 'anchor': args.anchor, 'command': ' '.join(['experts/tools/pool_results.py', *map(shlex.quote, argv)])}
    names = list(tasks)
    for n in range(1, len(names) + 1):
        for q in itertools.combinations(names, n):
            res['combinations'].append({'query': list(q), **query_eval(list(q), tasks, logits, oracle_logits, yte)})
    print('transfer baselines…', flush=True)
    xtr, ytr = ds.train
    xv, yv = ds.val
    multi = [c for c in res['combinations'] if len(c['query']) > 1] or res['combinations']
    tune_q = min(multi, key=lambda c: sum(len(tasks[t]) for t in c['query']))['query']
    hp = transfer.tune(lib, xtr, ytr, predict(lib, xv, cpu, stats=stats), yv, [c for t in tune_q for c in tasks[t]], tune_q,
                       args.baseline_epochs, log=lambda s: print(s, flush=True), stats=stats)
    res['transfer_tuning'] = hp
    lib_test = predict(lib, xte, cpu, stats=stats)
    for c in multi:
        cols = [k for t in c['query'] for k in tasks[t]]
        t0 = time.time()
        head = transfer.train(lib, xtr, ytr, cols, hp, args.baseline_epochs, stats=stats)
        mask, truth = transfer.query_targets(cols, yte)
        c['transfer'] = {'top1': transfer.head_top1(head, lib_test[mask], truth), 'seconds': time.time() - t0}
        print(f'  {c["query"]}: PoE {c["top1"]:.3f}, transfer {c["transfer"]["top1"]:.3f} ({c["transfer"]["seconds"]:.0f}s)', flush=True)
    queries = class_queries(len(ds.class_names))
    builds = [('shipped: ' + cfg['tasks'], lib, experts, tasks)]
    for spec in args.compare:
        label, _, folder = spec.partition('=')
        _, l2, e2, t2 = evaluate.load_build(repo_path(folder))
        builds.append((label, l2, e2, t2))
    if args.hand:
        hand = json.loads(repo_path(args.hand).read_text())
        same = sorted(map(sorted, hand.values())) == sorted(sorted(cs) for cs in res['tasks'].values())
        res['hand'] = {'file': str(args.hand), 'tasks': hand, 'samePartition': same}
    res['groupings'] = []
    for label, l, e, t in builds:
        res['groupings'].append({'name': label, 'tasks': {k: [ds.class_names[c] for c in cs] for k, cs in t.items()},
                                 'val': grouping_figures(l, e, t, ds.val, stats, queries),
                                 'test': grouping_figures(l, e, t, ds.test, stats, queries)})
    res['seconds'] = time.time() - t_start
    out = args.results or REPO / 'experts' / f'RESULTS-{manifest["name"]}.md'
    out.with_suffix('.json').write_text(json.dumps(res, indent=1))
    out.write_text(render(res, manifest))
    print(f'wrote {out} ({res["seconds"]:.0f}s)')


def render(r, manifest):
    pct = lambda x: f'{100 * x:.1f}'
    L = [f'# Expert pool results: {manifest["name"]}', '',
         f'Generated by `/usr/bin/python3 {r.get("command") or "experts/tools/pool_results.py " + r["config"]}` from the weights the pool serves '
         f'({r["pool"]}); the test split of {r["data"]} ({r["testImages"]:,} images). Do not edit by hand. '
         f'Rebuild the pool: `/usr/bin/python3 experts/build.py {r["config"]}`; its build folder keeps the oracle these figures '
         'need (weights are not kept in git).', '',
         f'- Oracle {r["oracle"]["arch"]}: **{pct(r["oracle"]["test_top1"])} %** top-1 ({r["oracle"]["epochs"]} epochs, '
         f'{r["oracle"]["trainImages"]:,} training images).' + (f' {r["anchor"]}' if r.get('anchor') else ''),
         f'- Tasks: ' + '; '.join(f'**{t}**: {", ".join(cs)}' for t, cs in r['tasks'].items()) + '.', '',
         '## Each expert on its own classes', '', '| expert | classes | top-1 % | params |', '|---|---|---|---|']
    L += [f'| {t} | {len(r["tasks"][t])} | {pct(e["test_task_top1"])} | {e["params"]:,} |' for t, e in r['experts'].items()]
    L += ['', '## The consolidated model over every combination of tasks', '',
          'Oracle on the same classes: its logits restricted to the query\'s classes. Cross-expert share: errors whose winning '
          'logit belongs to another expert than the true class. Transfer: the frozen library plus a new head trained on the '
          f'query\'s training images for {r["transfer_tuning"]["epochs"]} epochs (lr {r["transfer_tuning"]["lr"]}, weight decay '
          f'{r["transfer_tuning"]["weight_decay"]}, chosen by validation top-1 on {", ".join(r["transfer_tuning"]["query"])}); '
          'its seconds are training time on this machine, PoE answers in milliseconds.', '',
          '| query | classes | PoE top-1 % | oracle on same classes % | PoE vs oracle | cross-expert share % | Transfer % (s) |',
          '|---|---|---|---|---|---|---|']
    for c in r['combinations']:
        n = sum(len(r['tasks'][t]) for t in c['query'])
        tr = f'{pct(c["transfer"]["top1"])} ({c["transfer"]["seconds"]:.0f})' if 'transfer' in c else '-'
        L.append(f'| {" + ".join(c["query"])} | {n} | {pct(c["top1"])} | {pct(c["oracle_top1"])} | {100 * (c["top1"] - c["oracle_top1"]):+.1f} '
                 f'| {pct(c["cross_expert_share"])} | {tr} |')
    if r.get('hand'):
        h = r['hand']
        L += ['', f'The grouping written by hand ({h["file"]}: ' + '; '.join(f'{t}: {", ".join(cs)}' for t, cs in h['tasks'].items()) + ') '
              + ('is the same partition as the shipped one, so a build from it gives the same experts.' if h['samePartition']
                 else 'differs from the shipped one; compare them with --compare NAME=FOLDER.')]
    if len(r['groupings']) > 1:
        sizes = list(r['groupings'][0]['val'])  # ints, or strings when read back from the .json
        L += ['', '## Groupings compared: random class-level queries', '',
              f'{CLASS_QUERIES} random queries of k classes each (seed 0, the same for every grouping), consolidated as the app does '
              '(each expert keeps only the picked classes\' logits); mean top-1 % and mean cross-expert share of errors %, '
              'validation split first, then test. Each grouping is its own build from the same oracle.', '',
              '| grouping | tasks | ' + ' | '.join(f'k={k} val | k={k} test' for k in sizes) + ' |',
              '|---|---|' + '---|---|' * len(sizes)]
        for g in r['groupings']:
            tasks = '; '.join(f'{t}: {", ".join(cs)}' for t, cs in g['tasks'].items())
            L.append(f'| {g["name"]} | {tasks} | ' + ' | '.join(
                f'{g["val"][k]["top1"]:.1f} ({g["val"][k]["cross"]:.0f}) | {g["test"][k]["top1"]:.1f} ({g["test"][k]["cross"]:.0f})' for k in sizes) + ' |')
        L += ['', 'In brackets: the cross-expert share of errors %.']
    L += ['', f'Measured in {r["seconds"] / 60:.0f} min on 2 CPU cores.']
    return '\n'.join(L) + '\n'


if __name__ == '__main__':
    main(sys.argv[1:])
