import os
import sys
import tempfile
from pathlib import Path

import pytest

EXPERTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXPERTS))
os.environ.setdefault('POE_CACHE_DIR', tempfile.mkdtemp(prefix='poe-data-cache-'))  # decoded test folders stay out of the repo

from poe import settings  # noqa: E402

# every stage at its smallest: a build of a few hundred images in seconds
TINY = {'n_train': 192, 'n_val': 200, 'precision': 'fp32', 'oracle_depth': 10, 'oracle_widen': 1, 'teacher_views': 2,
        'oracle_epochs': 2, 'library_epochs': 1, 'expert_epochs': 1, 'tune_epochs': 1,
        'oracle_batch': 64, 'library_batch': 64, 'expert_batch': 64, 'tune_batch': 64}


def tiny_args(tmp_path, **extra):
    return [f'--{k}={v}' for k, v in {**TINY, 'out': tmp_path / 'b', 'pool': tmp_path / 'pool', **extra}.items()]


@pytest.fixture
def tiny_cfg(tmp_path):
    def make(**extra):
        cfg = {**settings.DEFAULTS, **TINY, 'out': str(tmp_path / 'b'), 'pool': str(tmp_path / 'pool'), **extra}
        settings.check(cfg)
        return cfg
    return make
