"""Stage 2: distil a WRN-16-1 student from the oracle on all training images (KD, T=4, no labels),
then keep its lower part (conv1, block1, block2) as the library: 42,768 parameters, frozen for good.

--quick: 10,000 images, a few epochs (about 2 minutes on 2 cores).
Output: OUT/library.pt (library state_dict + metrics, including the whole student's top-1).
"""
import sys

import torch

from poe import config, data, train, teacher_cache
from poe.oracle import load_oracle
from poe.wrn import WideResNet, Library, count_params

DEFAULTS = {
    'out': 'experts/checkpoints/full',  # build folder holding oracle.pt
    'data': '',             # CIFAR-100 folder; empty = $POE_DATA_DIR or ../shared/datasets/cifar-100-binary
    'epochs': 90,           # student val top-1: 15 epochs 60.6 %, 45 65.5 % (online oracle), 90 from a teacher cache 67.3 %
    'batch_size': 128,
    'lr': 0.1,
    'schedule': 'onecycle',
    'weight_decay': 5e-4,
    'temperature': 4.0,     # KD temperature T
    'teacher_flip': False,  # teacher logits averaged over the image and its mirror (a stronger teacher, 2x oracle cost)
    'teacher_cache': '',    # file in --out made by cache_teacher.py: stored oracle logits of K views (no oracle pass per step); a,b joins several caches' views
    'precision': 'auto',    # auto | bf16 | fp32: auto picks bf16 autocast only where the hardware has native bf16
    'n_train': 0,           # first n training images only (0 = all 45,000)
    'seed': 1,
    'device': 'cpu',
}
QUICK = {'out': 'experts/checkpoints/quick', 'epochs': 4, 'n_train': 10000}


def main(argv):
    quick = '--quick' in argv
    argv = [a for a in argv if a != '--quick']
    cfg = config.parse({**DEFAULTS, **(QUICK if quick else {})}, argv, __doc__)
    device, gen = train.setup(cfg['seed'], cfg['device'])
    out = train.out_dir(cfg)
    x, _, _ = data.load_split('train', cfg['data'] or None)
    if cfg['n_train']:
        x = x[:cfg['n_train']]
    if cfg['teacher_cache'] and cfg['teacher_flip']:
        raise SystemExit('error: --teacher_flip applies to the oracle run every step; a cache fixes it when built (cache_teacher.py --flip)')
    cache = teacher_cache.load_named(out, cfg['teacher_cache'], len(x)) if cfg['teacher_cache'] else None
    oracle = None if cache else load_oracle(out, device)[0]
    xv, yv, _ = data.load_split('val', cfg['data'] or None)
    student = WideResNet(16, 1, 100).to(device).to(memory_format=torch.channels_last)
    opt = train.sgd(student.parameters(), cfg)

    net = train.parallel(student)

    def step(idx):
        if cache:
            images, teacher = cache.batch(x, idx, gen)
            xb, teacher = train.to_input(train.shard(images), device), train.shard(teacher).to(device)
        else:
            xb = train.to_input(train.shard(data.augment(x[idx], gen)), device)
        with train.autocast(device, cfg['precision']):
            if not cache:
                with torch.no_grad():
                    teacher = train.teacher_logits(oracle, xb, cfg['teacher_flip'])
            loss = train.kd_loss(net(xb).float(), teacher.float(), cfg['temperature'])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def evaluate():
        return {'val_top1': float((train.predict(student, xv, device).argmax(1).numpy() == yv).mean())}

    history, wall = train.run_epochs('library', out / 'library.ckpt', {'student': student}, opt, cfg, len(x), step, evaluate, gen)
    if not train.is_main():
        return
    xt, yt, _ = data.load_split('test', cfg['data'] or None)
    test_top1 = float((train.predict(student, xt, device).argmax(1).numpy() == yt).mean())
    lib = Library(16, 1)
    lib.load_state_dict({k: v for k, v in student.state_dict().items() if k.split('.')[0] in ('conv1', 'block1', 'block2')})
    print(f'library student test top-1 {test_top1:.4f}; library keeps {count_params(lib):,} parameters; {wall:.0f}s', flush=True)
    torch.save({'state_dict': lib.state_dict(), 'cfg': cfg, 'history': history,
                'metrics': {**train.precision_metrics(cfg['precision'], device), 'student_test_top1': test_top1, 'student_val_top1': history[-1]['val_top1'],
                            'wall_s': wall, 'params': count_params(lib)}}, out / 'library.pt')


if __name__ == '__main__':
    main(sys.argv[1:])
