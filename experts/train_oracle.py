"""Stage 1: train the oracle, a WideResNet over all 100 CIFAR-100 classes, with labels.

Defaults are the CPU-budget full build; --quick trains WRN-16-2 on 10,000 images for a few epochs
(about 3 minutes on 2 cores, roughly 20 % top-1: a rough oracle for tests and demos only).
Output: OUT/oracle.pt (state_dict + settings + metrics) and OUT/oracle.ckpt (resume).
"""
import sys

import torch
import torch.nn.functional as F

from poe import config, data, train
from poe.wrn import WideResNet, count_params

DEFAULTS = {
    'out': 'experts/checkpoints/full',  # folder for checkpoints and stage outputs
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'depth': 16,            # WideResNet depth (6n+4)
    'widen': 4,             # WideResNet width factor (WRN-16-4: 73.9 % after 60 epochs; WRN-16-2: 70.1 % after 40)
    'epochs': 60,
    'batch_size': 128,
    'lr': 0.1,              # peak learning rate
    'schedule': 'onecycle', # onecycle | step
    'weight_decay': 5e-4,
    'label_smoothing': 0.0, # 0: smoothed teachers distil worse (Mueller et al. 2019), and the oracle is a teacher
    'precision': 'auto',    # auto | bf16 | fp32: auto picks bf16 autocast only where the hardware has native bf16
    'n_train': 0,           # use only the first n training images (0 = all 45,000)
    'seed': 0,
    'device': 'cpu',        # cpu | cuda
}
QUICK = {'out': 'experts/checkpoints/quick', 'depth': 16, 'widen': 2, 'epochs': 4, 'n_train': 10000}


def main(argv):
    quick = '--quick' in argv
    argv = [a for a in argv if a != '--quick']
    cfg = config.parse({**DEFAULTS, **(QUICK if quick else {})}, argv, __doc__)
    device, gen = train.setup(cfg['seed'], cfg['device'])
    x, y, _ = data.load_split('train', cfg['data'] or None)
    if cfg['n_train']:
        x, y = x[:cfg['n_train']], y[:cfg['n_train']]
    xv, yv, _ = data.load_split('val', cfg['data'] or None)
    model = WideResNet(cfg['depth'], cfg['widen'], 100).to(device).to(memory_format=torch.channels_last)
    train.log(f'oracle WRN-{cfg["depth"]}-{cfg["widen"]}: {count_params(model):,} parameters, {len(x)} training images')
    opt = train.sgd(model.parameters(), cfg)
    yt = torch.as_tensor(y)

    net = train.parallel(model)

    def step(idx):
        xb, yb = train.shard(data.augment(x[idx], gen), yt[idx])
        xb = train.to_input(xb, device)
        with train.autocast(device, cfg['precision']):
            loss = F.cross_entropy(net(xb), yb.to(device), label_smoothing=cfg['label_smoothing'])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def evaluate():
        return {'val_top1': float((train.predict(model, xv, device).argmax(1).numpy() == yv).mean())}

    history, wall = train.run_epochs('oracle', train.out_dir(cfg) / 'oracle.ckpt', {'model': model}, opt, cfg, len(x), step, evaluate, gen)
    if not train.is_main():
        return
    xt, yt_test, _ = data.load_split('test', cfg['data'] or None)
    test_top1 = float((train.predict(model, xt, device).argmax(1).numpy() == yt_test).mean())
    print(f'oracle test top-1 {test_top1:.4f}, val top-1 {history[-1]["val_top1"]:.4f}, {wall:.0f}s', flush=True)
    torch.save({'state_dict': model.state_dict(), 'cfg': cfg, 'arch': {'depth': cfg['depth'], 'widen': cfg['widen']},
                'metrics': {'test_top1': test_top1, 'val_top1': history[-1]['val_top1'], 'wall_s': wall,
                            **train.precision_metrics(cfg['precision'], device),
                            'params': count_params(model)}, 'history': history}, train.out_dir(cfg) / 'oracle.pt')


if __name__ == '__main__':
    main(sys.argv[1:])
