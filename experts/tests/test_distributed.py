"""The oracle and library stages under torchrun: 2 CPU processes (gloo) on tiny settings."""
import os
import subprocess
import sys
from pathlib import Path

import torch

EXPERTS = Path(__file__).resolve().parents[1]
TINY = ['--n_train=256', '--epochs=2', '--batch_size=64', '--precision=fp32']


def torchrun(script, *args):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    # --redirects/--tee spelled out: Debian's torch 1.13 on Python 3.11 cannot parse their default "0".
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '--redirects=1', '--tee=1', script, *args],
                       cwd=EXPERTS, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_oracle_and_library_train_with_two_processes_and_log_once(tmp_path):
    out = torchrun('train_oracle.py', f'--out={tmp_path}', '--depth=10', '--widen=1', *TINY)
    assert out.count('distributed: 2 processes (gloo), 1 threads each') == 1
    assert out.count('[oracle] epoch 2/2 done') == 1
    oracle = torch.load(tmp_path / 'oracle.pt')
    assert [h['epoch'] for h in oracle['history']] == [1, 2] and 'val_top1' in oracle['history'][-1]

    out = torchrun('train_library.py', f'--out={tmp_path}', *TINY)
    assert out.count('[library] epoch 2/2 done') == 1
    assert 'student_test_top1' in torch.load(tmp_path / 'library.pt')['metrics']


def test_a_distributed_run_resumes_from_its_checkpoint(tmp_path):
    torchrun('train_oracle.py', f'--out={tmp_path}', '--depth=10', '--widen=1', *TINY)
    first = torch.load(tmp_path / 'oracle.pt')['state_dict']
    out = torchrun('train_oracle.py', f'--out={tmp_path}', '--depth=10', '--widen=1', *TINY)
    assert 'resuming after epoch 2/2' in out
    again = torch.load(tmp_path / 'oracle.pt')['state_dict']
    assert all(torch.equal(first[k], again[k]) for k in first)
