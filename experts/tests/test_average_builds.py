"""average_builds.py: the weight average of two (or more) builds, parameter by parameter, written as a build folder."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from average_builds import average
from poe.wrn import Expert, Library

EXPERTS = Path(__file__).resolve().parents[1]


def _build(folder, seed):
    torch.manual_seed(seed)
    lib = Library(16, 1)
    (folder / 'experts').mkdir(parents=True)
    torch.save({'state_dict': lib.state_dict(), 'metrics': {}}, folder / 'library.pt')
    torch.save({'arch': 'same for both'}, folder / 'oracle.pt')
    for name, classes in (('people', [2, 11, 35, 46, 98]), ('trees', [47, 52, 56, 59, 96])):
        e = Expert(lib.out_channels, 16, 5)
        torch.save({'state_dict': e.state_dict(), 'classes': classes, 'class_names': [str(c) for c in classes],
                    'metrics': {'val_task_top1': 0.0}}, folder / 'experts' / f'{name}.pt')
    return folder


def test_average_mixes_floating_tensors_and_keeps_the_batch_counters_of_the_first():
    a = {'w': torch.zeros(3), 'n': torch.tensor(7)}
    b = {'w': torch.ones(3) * 4, 'n': torch.tensor(9)}
    out = average(a, b, 0.25)
    assert torch.equal(out['w'], torch.ones(3)) and int(out['n']) == 7


def test_builds_of_different_architectures_are_refused_by_name():
    with pytest.raises(SystemExit, match='differ in architecture: extra'):
        average({'w': torch.zeros(1)}, {'w': torch.zeros(1), 'extra': torch.zeros(1)}, 0.5)


def test_the_written_build_is_the_midpoint_of_library_and_every_expert(tmp_path):
    a, b = _build(tmp_path / 'a', 0), _build(tmp_path / 'b', 1)
    r = subprocess.run([sys.executable, 'average_builds.py', f'--a={a}', f'--b={b}', f'--out={tmp_path / "soup"}'],
                       cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert 'all 2 experts at once' in r.stdout
    for rel in ('library.pt', 'experts/people.pt', 'experts/trees.pt'):
        sa, sb, so = (torch.load(f / rel)['state_dict'] for f in (a, b, tmp_path / 'soup'))
        for k in sa:
            if sa[k].is_floating_point():
                assert torch.allclose(so[k], (sa[k] + sb[k]) / 2), (rel, k)
    soup = torch.load(tmp_path / 'soup' / 'experts' / 'people.pt')
    assert soup['soup']['weight'] == 0.5 and soup['soup']['b'] == 'b' and 0 <= soup['metrics']['val_task_top1'] <= 1


def test_several_b_builds_are_averaged_uniformly_with_a(tmp_path):
    builds = [_build(tmp_path / name, seed) for seed, name in enumerate('abc')]
    r = subprocess.run([sys.executable, 'average_builds.py', f'--a={builds[0]}', f'--b={builds[1]},{builds[2]}',
                        f'--out={tmp_path / "soup"}'], cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert '0.333 x a + 0.333 x b + 0.333 x c' in r.stdout
    for rel in ('library.pt', 'experts/trees.pt'):
        states = [torch.load(f / rel)['state_dict'] for f in builds]
        so = torch.load(tmp_path / 'soup' / rel)['state_dict']
        for k in so:
            if so[k].is_floating_point():
                assert torch.allclose(so[k], sum(s[k] for s in states) / 3, atol=1e-6), (rel, k)
    assert torch.load(tmp_path / 'soup' / 'library.pt')['soup']['b'] == ['b', 'c']
    r = subprocess.run([sys.executable, 'average_builds.py', f'--a={builds[0]}', f'--b={builds[1]},{builds[2]}',
                        '--weight=0.3', f'--out={tmp_path / "soup2"}'], cwd=EXPERTS, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and 'averaged uniformly' in r.stderr


@pytest.mark.parametrize('args, says', [(['--weight=1.5'], 'between 0 and 1'), (['--bn=median'], 'unknown setting --bn'),
                                        (['--b='], '--b .* is required'), ([], 'is not a build folder .*library.pt')])
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, args, says):
    r = subprocess.run([sys.executable, 'average_builds.py', f'--a={tmp_path}', f'--b={tmp_path}', *args],
                       cwd=EXPERTS, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and __import__('re').search(says, r.stderr), r.stderr
