"""build_pool.py from the dataset to an exported pool on tiny settings, library and experts trained from the teacher cache."""
import json
import subprocess
import sys
from pathlib import Path

EXPERTS = Path(__file__).resolve().parents[1]


def test_one_command_builds_a_pool_whose_library_and_experts_learn_from_the_teacher_cache(tmp_path):
    args = [f'--out={tmp_path / "b"}', f'--pool={tmp_path / "pool"}', '--name=tiny', '--n_train=128', '--oracle_depth=10',
            '--oracle_widen=1', '--oracle_epochs=1', '--library_epochs=1', '--expert_epochs=1', '--teacher_views=2', '--teacher_seeds=3,4', '--tune_epochs=2', '--tune_consolidation=0.05,0.1',
            '--tune_consolidation_query=4',
            '--precision=fp32', '--jobs=1']
    r = subprocess.run([sys.executable, 'build_pool.py', *args], cwd=EXPERTS, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert '[teacher cache] view 2/2 stored' in r.stdout
    assert (tmp_path / 'b' / 'teacher_cache.pt').exists() and (tmp_path / 'b' / 'teacher_cache_s4.pt').exists()  # one cache per seed
    torch = __import__('torch')
    joined = 'teacher_cache.pt,teacher_cache_s4.pt'
    assert torch.load(tmp_path / 'b' / 'library.pt')['cfg']['teacher_cache'] == joined  # the library learns from both too
    assert torch.load(tmp_path / 'b' / 'experts' / 'people.pt')['cfg']['teacher_cache'] == joined
    assert torch.load(tmp_path / 'b' / 'tuned-1' / 'experts' / 'people.pt')['tune_cfg']['teacher_cache'].count('teacher_cache') == 2
    manifest = json.loads((tmp_path / 'pool' / 'pool.json').read_text())
    assert len(manifest['experts']) == 20
    metrics = json.loads((tmp_path / 'b' / 'tuned' / 'metrics.json').read_text())
    assert metrics['teacherCache']['views'] == 4 and metrics['teacherCache']['seeds'] == [3, 4] and metrics['stageWallSeconds']['teacher cache'] > 0
    assert [r['epochs'] for r in metrics['jointTuning']['runs']] == [2, 2, 2]  # --tune_runs=3 (the default): each run from the one before
    assert [r['consolidation'] for r in metrics['jointTuning']['runs']] == [0.05, 0.1, 0.1]  # one weight per run, the last repeating
    assert metrics['jointTuning']['averaged'] == {'lastRuns': 2, 'weight': 0.5}  # the exported build averages tuned-2 and tuned-3
    soup, second, third = (torch.load(tmp_path / 'b' / f / 'library.pt')['state_dict']['conv1.weight'] for f in ('tuned', 'tuned-2', 'tuned-3'))
    assert torch.allclose(soup, (second + third) / 2)
    assert metrics['jointTuning']['epochs'] == 6 and metrics['jointTuning']['consolidation'] == 0.1 and metrics['jointTuning']['consolidationQuery'] == 4 and metrics['stageWallSeconds']['joint tuning'] > 0
    base, tuned = (torch.load(tmp_path / 'b' / f / 'library.pt')['state_dict'] for f in ('.', 'tuned'))
    assert not torch.equal(base['conv1.weight'], tuned['conv1.weight'])  # tuned, and the base library kept as it was
    (tmp_path / 'b' / 'teacher_cache.pt').unlink()  # not committed: a build folder from git still exports
    again = subprocess.run([sys.executable, 'build_pool.py', *args], cwd=EXPERTS, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and again.stdout.count('done already') == 6, again.stdout[-2000:]
