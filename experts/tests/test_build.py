"""The one entry point end to end: experts/build.py with the quick config on tiny settings, from the dataset to a
pool the app can open; a rerun finds every stage done."""
import json
import subprocess
import sys

from conftest import EXPERTS, tiny_args


def build(*args):
    return subprocess.run([sys.executable, str(EXPERTS / 'build.py'), *args], capture_output=True, text=True, timeout=600)


def test_the_quick_config_builds_a_pool_and_a_rerun_skips_every_stage(tmp_path):
    args = ['quick', *tiny_args(tmp_path)]
    r = build(*args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for stage in ('oracle', 'teacher', 'library', 'experts', 'tune-1', 'tune-2', 'tune-3', 'average', 'export'):
        assert f'== {stage}\n' in r.stdout, stage
    manifest = json.loads((tmp_path / 'pool' / 'pool.json').read_text())
    assert manifest['name'] == 'cifar100-quick' and len(manifest['experts']) == 20
    assert all((tmp_path / 'pool' / e['files']['weights']['path']).stat().st_size == e['files']['weights']['bytes'] for e in manifest['experts'])
    again = build(*args, '--stages=oracle,teacher,library,experts,tune,average')
    assert again.returncode == 0 and again.stdout.count('done already') == 8, again.stdout[-2000:]


def test_missing_data_and_bad_settings_end_with_one_clear_line(tmp_path):
    r = build('quick', *tiny_args(tmp_path), f'--data={tmp_path / "nowhere"}')
    assert r.returncode != 0 and 'no dataset at' in r.stderr and 'Traceback' not in r.stderr
    r = build('quick', '--oracle_epoch=3')
    assert r.returncode != 0 and r.stderr.strip() == 'error: unknown setting --oracle_epoch; known: ' + ', '.join(
        __import__('poe.settings', fromlist=['DEFAULTS']).DEFAULTS)


def test_the_gpu_config_runs_the_same_stages_on_a_cpu_and_exports_back_here(tmp_path):
    """The GPU's shape (data on the device, experts stacked, epochs planned to a budget, chunks after every epoch)
    on this CPU: every stage but the export, then the export as it runs here after a device run."""
    args = ['gpu', *tiny_args(tmp_path), '--device=cpu', '--budget_s=2', f'--return_dir={tmp_path / "ret"}']
    r = build(*args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'plan: {"oracle_epochs": 1' in r.stdout and '== average (' in r.stdout and '== export' not in r.stdout
    assert (tmp_path / 'ret' / 'build.tar.00').exists() and not (tmp_path / 'pool').exists()
    r = build(*args[:-2], '--stages=export')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert json.loads((tmp_path / 'pool' / 'pool.json').read_text())['name'] == 'cifar100-gpu'
