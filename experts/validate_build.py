"""The validation-split figures that settings are chosen on, for one or more build folders side by side:
each expert's top-1 among its 5 classes (mean over the 20), and the consolidated model's mean top-1 over
all combinations of the six superclasses of RESULTS.md (n = 2..6) beside the oracle restricted to the
same classes. Settings are chosen on the validation split (the default); --split=test only reports.

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
from poe.train import predict  # noqa: E402
from results import SIX, load_build, query_eval, summarize  # noqa: E402


def validate(build, xv, yv):
    device = torch.device('cpu')
    oracle, _ = load_oracle(build, device)
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
    return {'task_mean': 100 * float(np.mean(list(task.values()))), 'six': six}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', type=Path, action='append', required=True, help='build folder (oracle.pt, library.pt, experts/); repeat to compare')
    p.add_argument('--split', choices=('val', 'test'), default='val', help='val to choose settings on, test to report')
    p.add_argument('--data', default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count())
    xv, yv, _ = data.load_split(args.split, args.data)
    print(f'{args.split} split, {len(yv)} images')
    print(f'| build | expert {args.split} top-1 mean % | ' + ' | '.join(f'n={n} % (oracle)' for n in range(2, 7)) + ' |')
    print('|---|---|' + '---|' * 5)
    for b in args.build:
        b = b if b.is_absolute() else data.REPO_ROOT / b if not b.exists() else b
        r = validate(b, xv, yv)
        print(f'| {b.name} | {r["task_mean"]:.2f} | ' + ' | '.join(f'{s["mean"]:.2f} ({s["oracle_mean"]:.1f})' for s in r['six'].values()) + ' |', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
