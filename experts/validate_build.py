"""The validation-split figures that settings are chosen on, for one or more build folders side by side:
each expert's top-1 among its 5 classes (mean over the 20), and the consolidated model's mean top-1 over
all combinations of the six superclasses of RESULTS.md (n = 2..6) beside the oracle restricted to the
same classes, and how the six-superclass query's errors split: the right expert losing to another
(right expert %) or the wrong class winning inside the right expert (within expert %); and the model
consolidating every expert of the build at once on all the split's images of their classes (with 20
experts, 100-way on the whole split: the least noisy single figure, and the one settings are chosen by). A second
table gives the query figures on random n-superclass queries drawn from all 20, where every image of the
split takes part (the six superclasses hold only 1,500 validation images). Settings are chosen on the validation split (the default); --split=test only reports.

  /usr/bin/python3 experts/validate_build.py --build experts/checkpoints/wrn16-4 --build experts/checkpoints/wrn16-4-cache
"""
import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poe import data  # noqa: E402
from poe.oracle import load_oracle  # noqa: E402
from poe.train import inference_model, predict  # noqa: E402
from results import SIX, load_build, query_eval, summarize  # noqa: E402

WIDE_QUERIES = 400  # random n-superclass queries drawn from all 20, per n: every image of the split takes part


def validate(build, xv, yv):
    device = torch.device('cpu')
    oracle, _ = load_oracle(build, device)
    oracle = inference_model(oracle, device, 'fp32')
    lib, experts = load_build(build)
    if not experts:
        raise SystemExit(f'error: no experts in {build / "experts"}; train_experts.py writes them when it finishes')
    oracle_logits = predict(oracle, xv, device).numpy()
    feats = predict(lib, xv, device)
    with torch.no_grad():
        logits = {t: e(feats).numpy() for t, (e, _, _) in experts.items()}
    task = {t: float((np.array(c)[logits[t][np.isin(yv, c)].argmax(1)] == yv[np.isin(yv, c)]).mean()) for t, (_, c, _) in experts.items()}
    six = {n: summarize([query_eval(list(q), experts, logits, oracle_logits, yv) for q in itertools.combinations(SIX, n)])
           for n in range(2, 7)}
    rng = np.random.default_rng(0)  # the same queries for every build
    names = sorted(experts)
    wide = {n: summarize([query_eval([names[i] for i in rng.choice(len(names), n, replace=False)], experts, logits, oracle_logits, yv)
                          for _ in range(WIDE_QUERIES)]) for n in range(2, 7)}
    cols = np.concatenate([c for _, c, _ in experts.values()])
    covered = np.isin(yv, cols)
    every = cols[np.concatenate(list(logits.values()), 1)[covered].argmax(1)] == yv[covered]
    return {'task_mean': 100 * float(np.mean(list(task.values()))), 'six': six, 'wide': wide, 'all': 100 * float(every.mean()),
            **error_split(experts, logits, yv),
            'oracle': error_split(experts, {t: oracle_logits[:, c] for t, (_, c, _) in experts.items()}, yv)}


def error_split(experts, logits, y):
    """The six-superclass query's two ways to fail: the right expert's best logit must beat every other
    expert's (right expert %), and the right class must win inside that expert (within expert %)."""
    cols = [c for t in SIX for c in experts[t][1]]
    owner = np.repeat(np.arange(len(SIX)), [len(experts[t][1]) for t in SIX])
    mask = np.isin(y, cols)
    z = np.concatenate([logits[t][mask] for t in SIX], 1)
    truth = np.array([cols.index(c) for c in y[mask]])
    right_expert = owner[z.argmax(1)] == owner[truth]
    within = [z[i, owner == owner[truth[i]]].argmax() == truth[i] - np.flatnonzero(owner == owner[truth[i]])[0] for i in range(len(truth))]
    return {'right_expert': 100 * float(right_expert.mean()), 'within_expert': 100 * float(np.mean(within))}


def query_cells(by_size):
    return ' | '.join(f'{s["mean"]:.2f} ({s["oracle_mean"]:.1f})' for s in by_size.values())


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', type=Path, action='append', required=True, help='build folder (oracle.pt, library.pt, experts/); repeat to compare')
    p.add_argument('--split', choices=('val', 'test'), default='val', help='val to choose settings on, test to report')
    p.add_argument('--data', default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    xv, yv, _ = data.load_split(args.split, args.data)
    print(f'{args.split} split, {len(yv)} images')
    print(f'| build | expert {args.split} top-1 mean % | ' + ' | '.join(f'n={n} % (oracle)' for n in range(2, 7)) + ' | n=6: right expert % (oracle) | n=6: within expert % (oracle) | all experts at once % |')
    print('|---|---|' + '---|' * 8)
    wide = []
    for b in args.build:
        b = b if b.is_absolute() else data.REPO_ROOT / b if not b.exists() else b
        r = validate(b, xv, yv)
        wide.append(f'| {b.name} | {query_cells(r["wide"])} |')
        print(f'| {b.name} | {r["task_mean"]:.2f} | {query_cells(r["six"])}'
              + f' | {r["right_expert"]:.2f} ({r["oracle"]["right_expert"]:.1f}) | {r["within_expert"]:.2f} ({r["oracle"]["within_expert"]:.1f}) | {r["all"]:.2f} |', flush=True)
    print(f'\nThe same builds on {WIDE_QUERIES} random n-superclass queries from all 20 (seeded, the same for every build), mean top-1 % (oracle):')
    print('| build | ' + ' | '.join(f'n={n} % (oracle)' for n in range(2, 7)) + ' |')
    print('|---|' + '---|' * 5)
    print('\n'.join(wide), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
