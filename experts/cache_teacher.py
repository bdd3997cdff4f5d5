"""Precompute the oracle's logits for K augmented views of every training image (see poe/teacher_cache.py).

  /usr/bin/python3 experts/cache_teacher.py --out=experts/checkpoints/wrn16-4 --views=8
  /usr/bin/python3 experts/train_experts.py --out=experts/checkpoints/wrn16-4 --teacher_cache=teacher_cache.pt

Costs K oracle passes over the training set (2K with --flip); resumes after the last finished view.
Output: OUT/<file> (about 9 MB per view for 45,000 images; not committed, it is rebuilt from oracle.pt).
"""
import sys

from poe import config, data, train, teacher_cache
from poe.oracle import load_oracle

DEFAULTS = {
    'out': 'experts/checkpoints/full',  # build folder holding oracle.pt
    'file': 'teacher_cache.pt',         # cache file name inside --out
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'views': 8,             # random crops stored per image
    'flip': True,           # each view's logits average the crop and its mirror; the student sees either side
    'precision': 'auto',    # auto | bf16 | fp32
    'n_train': 0,           # first n training images only (0 = all 45,000)
    'seed': 3,
    'device': 'cpu',
}
QUICK = {'out': 'experts/checkpoints/quick', 'views': 2, 'n_train': 10000}


def main(argv):
    quick = '--quick' in argv
    argv = [a for a in argv if a != '--quick']
    cfg = config.parse({**DEFAULTS, **(QUICK if quick else {})}, argv, __doc__)
    if cfg['views'] < 1:
        raise SystemExit('error: --views must be at least 1')
    device, _ = train.setup(cfg['seed'], cfg['device'])
    out = train.out_dir(cfg)
    oracle, _ = load_oracle(out, device)
    x, _, _ = data.load_split('train', cfg['data'] or None)
    if cfg['n_train']:
        x = x[:cfg['n_train']]
    teacher_cache.build(oracle, out / 'oracle.pt', x, out / cfg['file'], cfg['views'], cfg['flip'], cfg['seed'],
                        cfg['precision'], device)
    print(f'teacher cache written to {out / cfg["file"]}', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
