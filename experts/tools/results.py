"""Writes experts/RESULTS.md (and RESULTS.json) for a pool: oracle, library student, each expert, consolidated
accuracy over query families, the oracle restricted to the same classes, cross-expert errors, and per-query
training baselines (Transfer, CKD per query) with wall times.

  /usr/bin/python3 experts/tools/results.py                                   # the built-in pool, ~14 minutes on 2 cores
  /usr/bin/python3 experts/tools/results.py --build experts/checkpoints/full  # a build folder

Everything is measured on the CIFAR-100 test set with the weights the pool serves (a pool folder: its own TF.js
files, read back; the built-in pool's oracle is named in experts/shipped.json). Transfer is poe/transfer.py's
recipe (the bench's too); its learning rate and weight decay are chosen on the validation split (one extra
random query) and kept in RESULTS.json for the bench. CKD per query distils from the oracle on precomputed
library features of all training images, 15 epochs, lr 0.05 (the expert stage's recipe).
"""
import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe import data, evaluate, transfer  # noqa: E402
from poe.evaluate import SIX, query_eval, summarize  # noqa: E402
from poe.losses import ckd_loss  # noqa: E402
from poe.runtime import inference_model, predict, repo_path  # noqa: E402

EXPERTS = Path(__file__).resolve().parents[1]
REPO = EXPERTS.parent
AUTHORS = {2: 79.0, 3: 76.4, 4: 74.2, 5: 72.2, 6: 70.5}  # the authors' released pool through this project's exporter and evaluator


def query_columns(query, tasks, y):
    cols = [c for t in query for c in tasks[t]]
    mask = np.isin(y, cols)
    remap = {c: i for i, c in enumerate(cols)}
    return cols, mask, torch.tensor([remap[c] for c in y[mask]])


def baselines(query, tasks, lib, xtr, ytr, lib_train, oracle_train, lib_test, yte, epochs, transfer_hp):
    cols, _, _ = query_columns(query, tasks, ytr)
    _, mte, tte = query_columns(query, tasks, yte)
    out = {}
    t0 = time.time()
    h = transfer.train(lib, xtr, ytr, cols, transfer_hp, epochs)
    out['transfer'] = {'top1': transfer.head_top1(h, lib_test[mte], tte), 'seconds': time.time() - t0}
    t0 = time.time()
    h = transfer.train_head(lib_train, oracle_train[:, cols], lambda z, zo: ckd_loss(z[:, None], zo[:, None], 4.0, 0.3), len(cols), epochs, 0.05, 5e-4, 0)
    out['ckd_per_query'] = {'top1': transfer.head_top1(h, lib_test[mte], tte), 'seconds': time.time() - t0}
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--build', type=Path, default=Path('public/pools/cifar100'), help='pool folder or build folder')
    p.add_argument('--oracle', type=Path, help="a pool's oracle.pt (default: the built-in pool's)")
    p.add_argument('--data', default=None)
    p.add_argument('--out', type=Path, default=EXPERTS / 'RESULTS.md')
    p.add_argument('--baseline-queries', type=int, default=6)
    p.add_argument('--baseline-epochs', type=int, default=transfer.EPOCHS)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--render-only', action='store_true', help='rewrite RESULTS.md from RESULTS.json (after a change to the layout)')
    args = p.parse_args(argv)
    args.build = repo_path(args.build)
    metrics = build_metrics(args.build)
    if args.render_only:
        args.out.write_text(render(json.loads(args.out.with_suffix('.json').read_text()), metrics))
        return print(f'wrote {args.out} from {args.out.with_suffix(".json").name}')
    torch.set_num_threads(os.cpu_count())
    device = torch.device('cpu')
    t_start = time.time()
    xte, yte, _ = data.load_split('test', args.data)
    oracle_path, lib, experts, tasks = evaluate.load_any(args.build, args.oracle)
    oracle, oracle_ck = evaluate.load_oracle(oracle_path, device)
    oracle = inference_model(oracle, device, 'fp32')
    print('test-set logits…', flush=True)
    oracle_logits = predict(oracle, xte, device).numpy()
    lib_test = predict(lib, xte, device)
    expert_logits = evaluate.expert_logits(lib, experts, xte)
    res = {'build': str(args.build.relative_to(REPO) if args.build.is_relative_to(REPO) else args.build),
           'oracle': {'arch': evaluate.oracle_name(oracle_ck),
                      'test_top1': float((oracle_logits.argmax(1) == yte).mean()), 'epochs': metrics['oracle'].get('epochs'),
                      'trainImages': metrics['oracle'].get('trainImages')},
           'library_student_test_top1': metrics['library']['student_test_top1'], 'experts': {}, 'six': {}, 'random': {}}
    for t, top1 in evaluate.task_top1(expert_logits, tasks, yte).items():
        res['experts'][t] = {'test_task_top1': top1, 'params': sum(p.numel() for p in experts[t].parameters())}
    for n in range(2, 7):
        rows = [query_eval(list(q), tasks, expert_logits, oracle_logits, yte) for q in itertools.combinations(SIX, n)]
        res['six'][n] = summarize(rows)
    rng = np.random.default_rng(args.seed)
    names = list(experts)
    for n in (2, 5, 10, 20):
        qs = [list(rng.choice(names, n, replace=False)) for _ in range(20 if n < 20 else 1)]
        res['random'][n] = summarize([query_eval(q, tasks, expert_logits, oracle_logits, yte) for q in qs])
    print('baselines…', flush=True)
    xtr, ytr, _ = data.load_split('train', args.data)
    xval, yval, _ = data.load_split('val', args.data)
    lib_train = predict(lib, xtr, device)
    oracle_train = predict(oracle, xtr, device)
    tune_query = list(rng.choice(SIX, 3, replace=False))
    hp = transfer.tune(lib, xtr, ytr, predict(lib, xval, device), yval, [c for t in tune_query for c in tasks[t]], tune_query,
                       args.baseline_epochs, log=lambda s: print(s, flush=True))
    res['transfer_tuning'] = hp
    sizes = [2, 3, 4, 5, 2, 3][:args.baseline_queries]
    res['baselines'] = []
    for k, n in enumerate(sizes):
        q = list(rng.choice(SIX, n, replace=False))
        poe = query_eval(q, tasks, expert_logits, oracle_logits, yte)['top1']
        b = baselines(q, tasks, lib, xtr, ytr, lib_train, oracle_train, lib_test, yte, args.baseline_epochs, hp)
        res['baselines'].append({'query': q, 'poe_top1': poe, **b})
        print(f'  {q}: PoE {poe:.3f}, transfer {b["transfer"]["top1"]:.3f} ({b["transfer"]["seconds"]:.0f}s), '
              f'CKD {b["ckd_per_query"]["top1"]:.3f} ({b["ckd_per_query"]["seconds"]:.0f}s)', flush=True)
    res['seconds'] = time.time() - t_start
    args.out.with_suffix('.json').write_text(json.dumps(res, indent=1))
    args.out.write_text(render(res, metrics))
    print(f'wrote {args.out} ({res["seconds"]:.0f}s)')


def build_metrics(folder):
    """The build's own account (the pool manifest's metrics, or a build folder's metrics.json)."""
    manifest = folder / 'pool.json'
    if manifest.exists():
        return json.loads(manifest.read_text()).get('metrics', {})
    if not (folder / 'metrics.json').exists():
        raise SystemExit(f'error: {folder} has no metrics.json: run its export stage first (experts/build.py CONFIG --stages=export)')
    return json.loads((folder / 'metrics.json').read_text())


def render(r, metrics):
    pct = lambda x: f'{100 * x:.1f}'
    L = ['# Expert pool results', '',
         f'Generated by `/usr/bin/python3 experts/tools/results.py --build {r["build"]}` from the weights the pool serves; '
         'CIFAR-100 test set (10,000 images). Do not edit by hand.', '',
         f'- Oracle {r["oracle"]["arch"]}: **{pct(r["oracle"]["test_top1"])} %** top-1 ({r["oracle"]["epochs"]} epochs, '
         f'{r["oracle"].get("trainImages") or r["oracle"].get("n_train") or 45000} training images).',
         f'- Library student WRN-16-1 (KD from the oracle): **{pct(r["library_student_test_top1"])} %** top-1'
         + (' (before the library was tuned jointly with the experts).' if metrics.get('jointTuning') else '.')]
    if metrics.get('stageWallSeconds'):
        w = metrics['stageWallSeconds']
        L.append(f'- Stage wall time on this machine ({metrics.get("machine", "")}): oracle {w["oracle"] / 60:.0f} min, '
                 f'library {w["library"] / 60:.0f} min, '
                 + (f'teacher cache {w["teacher cache"] / 60:.0f} min, ' if 'teacher cache' in w else '') + f'experts {w["experts"] / 60:.0f} min'
                 + (f', library and experts tuned jointly {w["joint tuning"] / 60:.0f} min ({len(metrics["jointTuning"].get("runs", [1]))} runs, {metrics["jointTuning"]["epochs"]} epochs'
                    + (f'; the weights of the last {metrics["jointTuning"]["averaged"]["lastRuns"]} runs averaged'
                       if metrics['jointTuning'].get('averaged') else '') + ')' if 'joint tuning' in w else '') + '.')
    L += ['', '## Each expert on its own superclass (top-1 among its 5 classes)', '', '| expert | top-1 % | params |', '|---|---|---|']
    L += [f'| {t} | {pct(e["test_task_top1"])} | {e["params"]:,} |' for t, e in r['experts'].items()]
    L += ['', '## Consolidated accuracy, all combinations of the six superclasses', '',
          f'Superclasses: {", ".join(SIX)}. Cross-expert share: errors whose winning logit belongs to another expert than the true class.', '',
          "| n | queries | PoE top-1 % (mean ± std) | authors' pool % | vs authors | issue #10's target % | oracle on same classes % | PoE vs oracle | cross-expert share of errors % |", '|---|---|---|---|---|---|---|---|---|']
    for n, s in r['six'].items():
        n = int(n)
        L.append(f'| {n} | {s["queries"]} | {s["mean"]:.1f} ± {s["std"]:.1f} | {AUTHORS[n]} | {s["mean"] - AUTHORS[n]:+.1f} | {AUTHORS[n] + 1:.1f} '
                 f'| {s["oracle_mean"]:.1f} | {s["mean"] - s["oracle_mean"]:+.1f} | {s["cross_expert_share"]:.1f} |')
    L += ['', '## Random queries over all 20 superclasses (seed 0)', '',
          '| n | queries | PoE top-1 % (mean ± std) | oracle on same classes % | cross-expert share % |', '|---|---|---|---|---|']
    L += [f'| {n} | {s["queries"]} | {s["mean"]:.1f} ± {s["std"]:.1f} | {s["oracle_mean"]:.1f} | {s["cross_expert_share"]:.1f} |' for n, s in r['random'].items()]
    L += ['', '## Per-query training baselines (2 CPU cores)', '',
          'Transfer: frozen library + new expert-shaped head, cross-entropy on the query\'s training images, augmented '
          f'(crop + flip) through the library every batch; lr {r["transfer_tuning"]["lr"]} and weight decay '
          f'{r["transfer_tuning"]["weight_decay"]} chosen by validation top-1 on {", ".join(r["transfer_tuning"]["query"])} '
          f'(grid lr {transfer.LR_GRID} x wd {transfer.WD_GRID}; experts/poe/transfer.py, also used by the bench). '
          'CKD per query: the same head distilled from the oracle (soft + scale loss) on precomputed library features of all training images, lr 0.05. '
          'Wall time is training time per query on this machine; PoE answers in milliseconds.', '',
          '| query | n | PoE % | Transfer % (s) | CKD per query % (s) |', '|---|---|---|---|---|']
    for b in r['baselines']:
        L.append(f'| {", ".join(b["query"])} | {len(b["query"])} | {pct(b["poe_top1"])} | {pct(b["transfer"]["top1"])} ({b["transfer"]["seconds"]:.0f}) | '
                 f'{pct(b["ckd_per_query"]["top1"])} ({b["ckd_per_query"]["seconds"]:.0f}) |')
    return '\n'.join(L) + '\n'


if __name__ == '__main__':
    main(sys.argv[1:])
