"""Per-expert logit calibration, an experiment that did not pay (EXPERIMENTS.md section 8): one scale and one
offset per expert, fitted on the training split (centre crops) so that all experts' logits side by side
match the oracle's flip-averaged 100-way softmax (--target=oracle) or the labels (--target=labels), then
folded into each expert's fc. Writes a build folder for validate_build.py; the pool format is unchanged.

  /usr/bin/python3 experts/calibrate_experts.py --build=experts/checkpoints/wrn16-4-lib/tuned --out=/tmp/calibrated
  /usr/bin/python3 experts/validate_build.py --build experts/checkpoints/wrn16-4-lib/tuned --build /tmp/calibrated

About 5 minutes on 2 cores (two oracle passes over the 45,000 training images). On the built-in pool the
validation figures moved by -0.1 to +0.1 points.
"""
import shutil
import sys

import torch
import torch.nn.functional as F

from poe import config, data, train
from poe.oracle import load_oracle
from results import load_build

DEFAULTS = {
    'build': 'experts/checkpoints/wrn16-4-lib/tuned',  # build folder: oracle.pt, library.pt, experts/
    'out': 'experts/checkpoints/calibrated',  # written: a copy of --build with calibrated experts
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'target': 'oracle',     # oracle: KD to the oracle's softmax; labels: cross-entropy
    'temperature': 1.0,     # of the KD to the oracle
}


def fit(expert_logits, target_logits, cols, labels, target, T, iters=200):
    """Scales and offsets (one per expert, in expert_logits' order) minimising the 100-way loss of the calibrated logits side by side."""
    z = torch.stack(list(expert_logits.values()), 1)  # images, experts, classes per expert
    log_s = torch.zeros(z.shape[1], requires_grad=True)
    c = torch.zeros(z.shape[1], requires_grad=True)
    order = torch.cat(cols)
    index = (order[None, :] == labels[:, None]).float().argmax(1)
    opt = torch.optim.LBFGS([log_s, c], max_iter=iters, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        zc = (z * log_s.exp()[None, :, None] + c[None, :, None]).flatten(1)
        loss = train.kd_loss(zc, target_logits[:, order], T) if target == 'oracle' else F.cross_entropy(zc, index)
        loss = loss + 1e-3 * (c ** 2).mean()  # offsets are only defined up to a common shift
        loss.backward()
        return loss

    opt.step(closure)
    return log_s.exp().detach(), c.detach()


def fold(state_dict, scale, offset):
    """The expert's state with scale * logits + offset built into its fc."""
    return {**state_dict, 'fc.weight': state_dict['fc.weight'] * scale, 'fc.bias': state_dict['fc.bias'] * scale + offset}


def main(argv):
    cfg = config.parse(DEFAULTS, argv, __doc__)
    if cfg['target'] not in ('oracle', 'labels'):
        raise SystemExit('error: --target must be oracle or labels')
    device, _ = train.setup(0, 'cpu')
    build, out = train.out_dir({'out': cfg['build']}), train.out_dir(cfg)
    if build.resolve() == out.resolve():
        raise SystemExit('error: --out must differ from --build')
    x, y, _ = data.load_split('train', cfg['data'] or None)
    oracle, _ = load_oracle(build, device)
    lib, experts = load_build(build)
    with torch.no_grad():
        z_o = train.predict(lambda b: train.teacher_logits(oracle, b, True), x, device)
        feats = train.predict(lib, x, device)
        z_e = {t: e(feats).float() for t, (e, _, _) in experts.items()}
    cols = [torch.as_tensor(experts[t][1]) for t in z_e]
    scales, offsets = fit(z_e, z_o, cols, torch.as_tensor(y), cfg['target'], cfg['temperature'])
    print('scales', [round(v, 3) for v in scales.tolist()], '\noffsets', [round(v, 3) for v in offsets.tolist()], flush=True)
    if out.exists():
        shutil.rmtree(out)
    (out / 'experts').mkdir(parents=True)
    for name in ('oracle.pt', 'library.pt'):
        shutil.copy2(build / name, out / name)
    for i, t in enumerate(z_e):
        ck = torch.load(build / 'experts' / f'{t}.pt', map_location='cpu')
        torch.save({**ck, 'state_dict': fold(ck['state_dict'], float(scales[i]), float(offsets[i])), 'calibration': cfg},
                   out / 'experts' / f'{t}.pt')
    print(f'calibrated build written to {out}', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
