"""--oracle: a teacher of your own (any module mapping images to logits) instead of a trained WRN."""
import json
import sys

import pytest
import torch

from poe import pipeline

MODULE = '''
import torch.nn as nn

def tiny():
    return nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 100))

def wrong():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 7))
'''


@pytest.fixture
def own(tmp_path, monkeypatch):
    (tmp_path / 'my_teacher.py').write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop('my_teacher', None)
    import my_teacher
    torch.save(my_teacher.tiny().state_dict(), tmp_path / 'tiny.pt')
    return tmp_path


def test_your_own_oracle_teaches_the_library_and_experts(own, tiny_cfg, tmp_path, capsys):
    cfg = tiny_cfg(oracle='my_teacher:tiny', oracle_weights=str(own / 'tiny.pt'), tune_consolidation=(0.1,), stages='oracle,teacher,library,experts,tune,export')
    pipeline.run(cfg, 'own')
    out = capsys.readouterr().out
    assert 'oracle my_teacher:tiny from' in out and '== oracle: done already' in out and '[experts] epoch 1/1' in out
    assert json.loads((tmp_path / 'pool' / 'pool.json').read_text())['metrics']['oracle']['arch'] == 'my_teacher:tiny'


def test_an_oracle_that_does_not_fit_is_refused_by_name(own, tiny_cfg):
    with pytest.raises(SystemExit, match=r'gives \(7,\) outputs for an image; this dataset has 100 classes'):
        torch.save(__import__('my_teacher').wrong().state_dict(), own / 'wrong.pt')
        pipeline.run(tiny_cfg(oracle='my_teacher:wrong', oracle_weights=str(own / 'wrong.pt')), 'own')
    with pytest.raises(SystemExit, match='does not load into my_teacher:tiny'):
        pipeline.run(tiny_cfg(oracle='my_teacher:tiny', oracle_weights=str(own / 'wrong.pt')), 'own')
    with pytest.raises(SystemExit, match='cannot import it'):
        pipeline.run(tiny_cfg(oracle='no_such_module:f', oracle_weights=str(own / 'tiny.pt')), 'own')
