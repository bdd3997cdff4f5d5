"""torchrun: the oracle, teacher and library stages in 2 CPU processes (gloo), logged once; the rest waits for a
plain run; a second torchrun resumes."""
import os
import subprocess
import sys

import torch

from conftest import EXPERTS, tiny_args


def torchrun(*args):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    # --redirects/--tee spelled out: Debian's torch 1.13 on Python 3.11 cannot parse their default "0".
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '--redirects=1', '--tee=1',
                        str(EXPERTS / 'build.py'), *args], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_the_first_stages_train_in_two_processes_and_the_rest_waits_for_one(tmp_path):
    out = torchrun('quick', *tiny_args(tmp_path))
    assert out.count('distributed: 2 processes (gloo), 1 threads each') == 1
    assert out.count('[oracle] epoch 2/2 done') == 1 and out.count('[teacher] view 2/2 stored') == 1
    assert out.count('[library] epoch 1/1 done') == 1
    assert '== experts: runs in one process; rerun the same command without torchrun' in out
    oracle = torch.load(tmp_path / 'b' / 'oracle.pt')
    assert [h['epoch'] for h in oracle['history']] == [1, 2]
    cache = torch.load(tmp_path / 'b' / 'teacher_cache.pt')
    assert cache['done'] == 2 and (cache['logits'][:, :, 0] != 0).float().mean() > 0.99  # both processes' shares are there
    again = torchrun('quick', *tiny_args(tmp_path))
    assert again.count('done already') == 3
