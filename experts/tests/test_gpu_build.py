"""build_pool_gpu.py on a CPU with tiny settings: the budget stop, the packed chunks, resume, and the
hand-over to build_pool.py's export."""
import json
import subprocess
import sys
from pathlib import Path

import torch

from split_data import join_parts, split

EXPERTS = Path(__file__).resolve().parents[1]


def gpu_build(*args):
    return subprocess.run([sys.executable, 'build_pool_gpu.py', '--device=cpu', '--tiny', '--precision=fp32', *args],
                          cwd=EXPERTS, capture_output=True, text=True, timeout=900)


def test_dataset_parts_rejoin_exactly_and_damage_is_named(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'train.bin').write_bytes(bytes(range(256)) * 40)
    (src / 'fine_label_names.txt').write_text('apple\n')
    (src / 'coarse_label_names.txt').write_text('fruit\n')
    m = split(src, tmp_path / 'parts', 4000)
    assert len(m['parts']) == 3
    out = join_parts(tmp_path / 'parts', tmp_path / 'joined')
    assert all((out / f.name).read_bytes() == f.read_bytes() for f in src.iterdir())
    part = tmp_path / 'parts' / 'part01.bin'
    part.write_bytes(b'x' + part.read_bytes()[1:])
    try:
        join_parts(tmp_path / 'parts', tmp_path / 'again')
        raise AssertionError('a damaged part was accepted')
    except SystemExit as e:
        assert 'train.bin rebuilt from the parts' in str(e)


def test_a_budgeted_build_stops_resumes_from_its_chunks_and_exports(tmp_path):
    first = gpu_build(f'--out={tmp_path / "a"}', f'--return_dir={tmp_path / "ret"}', '--budget_s=1')
    assert first.returncode == 3, first.stdout + first.stderr
    assert 'stopping before epoch 2/2' in first.stdout
    assert sorted(p.name for p in (tmp_path / 'ret').iterdir()) == ['build.tar.00']

    done = gpu_build(f'--out={tmp_path / "b"}', f'--resume_from={tmp_path / "ret"}', '--tune_consolidation_query=3')
    assert done.returncode == 0, done.stdout + done.stderr
    assert '[oracle] resuming after epoch 1/2' in done.stdout and 'build complete' in done.stdout
    assert '[teacher cache] 2 views of 512 images' in done.stdout  # the later stages read the oracle's cached logits
    b = tmp_path / 'b'
    assert len(list((b / 'experts').glob('*.pt'))) == 20 and not list(b.glob('*.ckpt'))
    assert len(list((b / 'tuned' / 'experts').glob('*.pt'))) == 20 and '[tune] epoch 1/1' in done.stdout
    assert not torch.equal(torch.load(b / 'library.pt')['state_dict']['conv1.weight'], torch.load(b / 'tuned' / 'library.pt')['state_dict']['conv1.weight'])

    fin = gpu_build('--finish', f'--out={b}')
    assert fin.returncode == 0, fin.stdout + fin.stderr
    assert torch.load(b / 'oracle.pt')['metrics']['test_top1'] is not None
    assert torch.load(b / 'oracle.pt')['state_dict']['conv1.weight'].dtype == torch.float16  # half the bytes to return
    assert torch.load(b / 'tuned' / 'oracle.pt')['metrics']['test_top1'] is not None
    assert torch.load(b / 'tuned' / 'library.pt')['metrics']['student_test_top1'] is not None
    # build_pool.py with its defaults finds every stage done (the GPU tuned with the oracle online) and exports tuned/
    export = subprocess.run([sys.executable, 'build_pool.py', f'--out={b}', f'--pool={tmp_path / "pool"}', '--name=gpu-tiny'],
                            cwd=EXPERTS, capture_output=True, text=True, timeout=600)
    assert export.returncode == 0, export.stdout + export.stderr
    assert export.stdout.count('done already') == 5, export.stdout
    manifest = json.loads((tmp_path / 'pool' / 'pool.json').read_text())
    assert len(manifest['experts']) == 20 and manifest['library']['params'] == 42768
    assert manifest['metrics']['jointTuning']['epochs'] == 1 and 'teacherCache' not in manifest['metrics']
    assert manifest['metrics']['jointTuning']['consolidationQuery'] == 3  # the tuning's random queries, as build_pool.py records them


def test_checkpointing_leaves_the_live_momentum_in_fp32():
    # the first GPU run died at its second epoch: the bf16 copy for the checkpoint had replaced the live buffers
    from build_pool_gpu import _momentum_to
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, foreach=True)
    for _ in range(2):
        model(torch.randn(8, 4)).square().mean().backward()
        opt.step()
        saved = _momentum_to(opt.state_dict(), torch.bfloat16)
    assert all(s['momentum_buffer'].dtype == torch.bfloat16 for s in saved['state'].values())
    assert all(s['momentum_buffer'].dtype == torch.float32 for s in opt.state.values())
    opt.load_state_dict(_momentum_to(saved, torch.float32))
    assert all(s['momentum_buffer'].dtype == torch.float32 for s in opt.state.values())


def test_a_build_from_an_oracle_trained_before_skips_it_plans_without_it_and_leaves_it_out_of_the_chunks(tmp_path):
    from poe.wrn import WideResNet
    torch.manual_seed(0)
    src = tmp_path / 'cpu-oracle.pt'
    torch.save({'state_dict': WideResNet(10, 1, 100).state_dict(), 'arch': {'depth': 10, 'widen': 1},
                'metrics': {'test_top1': None}}, src)
    missing = gpu_build(f'--out={tmp_path / "m"}', f'--oracle_from={tmp_path / "nope.pt"}')
    assert missing.returncode != 0 and f'--oracle_from={tmp_path / "nope.pt"}: no such file' in missing.stderr
    torn = tmp_path / 'torn.pt'
    torn.write_bytes(src.read_bytes()[:500])
    bad = gpu_build(f'--out={tmp_path / "t"}', f'--oracle_from={torn}')
    assert bad.returncode != 0 and 'is not an oracle checkpoint' in bad.stderr

    run = gpu_build(f'--out={tmp_path / "b"}', f'--oracle_from={src}', f'--return_dir={tmp_path / "ret"}',
                    '--budget_s=5', '--auto_epochs')  # every stage planned at its least, 1 epoch
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'oracle WRN-10-1 taken from' in run.stdout and '== oracle: done already' in run.stdout
    plan = json.loads((tmp_path / 'b' / 'plan.json').read_text())
    assert 'oracle_epochs' not in plan and plan['tune_epochs'] == 1 and set(plan['epoch_seconds']) == {'library', 'expert', 'tune'}
    assert torch.load(tmp_path / 'b' / 'oracle.pt')['state_dict']['conv1.weight'].dtype == torch.float16
    import io
    import tarfile
    blob = b''.join(p.read_bytes() for p in sorted((tmp_path / 'ret').glob('build.tar.*')))
    names = tarfile.open(fileobj=io.BytesIO(blob)).getnames()
    assert 'oracle.pt' not in names and 'tuned/library.pt' in names

    fin = gpu_build('--finish', f'--out={tmp_path / "b"}', f'--oracle_from={src}')
    assert fin.returncode == 0, fin.stdout + fin.stderr
    back = torch.load(tmp_path / 'b' / 'oracle.pt')
    assert back['state_dict']['conv1.weight'].dtype == torch.float32 and back['metrics']['test_top1'] is not None
    assert torch.equal(back['state_dict']['conv1.weight'], torch.load(src)['state_dict']['conv1.weight'])
