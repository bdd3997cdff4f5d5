"""Times one training step of the 20 experts, one after another against ExpertStack, on the device given
(the GPU build's expert and tuning stages): forward, backward and SGD on library features, the oracle
left out (the same in both). Prints milliseconds a step and seconds an epoch of 45,000 images.

  python3 experts/tools/bench_expert_stack.py --device=cuda          # on a lent GPU
  /usr/bin/python3 experts/tools/bench_expert_stack.py --device=cpu --steps=3
"""
import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from poe.experts import ExpertLoop, ExpertStack  # noqa: E402
from poe.loop import sgd  # noqa: E402
from poe.losses import ckd_loss  # noqa: E402
from poe.wrn import Expert  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda')
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--experts', type=int, default=20)
    a = p.parse_args(argv)
    dev = torch.device(a.device)
    torch.manual_seed(0)
    if dev.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    bf16 = dev.type == 'cuda' and torch.cuda.is_bf16_supported()
    feats = torch.randn(a.batch, 32, 16, 16, device=dev).contiguous(memory_format=torch.channels_last)
    z_o = torch.randn(a.batch, a.experts, 5, device=dev) * 3
    members = [Expert(32, 16, 5) for _ in range(a.experts)]
    loop = ExpertLoop(members).to(dev).to(memory_format=torch.channels_last)
    stack = ExpertStack.from_experts(members).to(dev).to(memory_format=torch.channels_last)

    def run(params, loss_fn):
        opt = sgd(params, 0.1, 5e-4)

        def step():
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        for i in range(a.steps + 3):
            if i == 3:
                if dev.type == 'cuda':
                    torch.cuda.synchronize()
                t0 = time.time()
            step()
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        return (time.time() - t0) / a.steps

    t_loop = run(list(loop.parameters()), lambda: ckd_loss(loop(feats).float(), z_o, 4.0, 0.3))
    t_stack = run(list(stack.parameters()), lambda: ckd_loss(stack(feats).float(), z_o, 4.0, 0.3))
    spe = math.ceil(45000 / a.batch)
    name = torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'
    print(f'{name}, batch {a.batch}, {a.experts} experts, {"bf16" if bf16 else "fp32"}:')
    print(f'  one after another: {t_loop * 1000:.1f} ms a step, {t_loop * spe:.1f} s an epoch')
    print(f'  stacked:           {t_stack * 1000:.1f} ms a step, {t_stack * spe:.1f} s an epoch ({t_loop / t_stack:.1f}x)')


if __name__ == '__main__':
    main(sys.argv[1:])
