import hashlib
import json
import sys
from pathlib import Path

import pytest
import torch

from poe.wrn import Library, Expert

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools'))
import export_pool  # noqa: E402


def write(tmp_path, name, module):
    p = tmp_path / f'{name}.pt'
    torch.save(module.state_dict(), p)
    return p


def test_external_state_dicts_become_a_pool_with_checksums(tmp_path):
    lib = write(tmp_path, 'lib', Library(16, 1))
    people = write(tmp_path, 'people', Expert(32, 16, 5))
    v1 = write(tmp_path, 'v1', Expert(32, 8, 5))
    out = tmp_path / 'pool'
    export_pool.main(['--library', str(lib), '--expert', f'people={people}', '--expert', f'vehicles_1={v1}',
                      '--out', str(out), '--reference-images', '4'])
    m = json.loads((out / 'pool.json').read_text())
    assert m['format'] == 'poe-pool' and m['formatVersion'] == 1
    assert [e['name'] for e in m['experts']] == ['people', 'vehicles_1']
    assert [e['width'] for e in m['experts']] == [16, 8]
    assert len(m['classes']) == 10 and m['library']['params'] == 42_768
    f = m['experts'][1]['files']['weights']
    assert hashlib.sha256((out / f['path']).read_bytes()).hexdigest() == f['sha256']
    ref = json.loads((out / 'reference.json').read_text())
    assert ref['images']['shape'] == [4, 32, 32, 3] and len(ref['logits']['people']) == 4


def test_an_expert_that_does_not_fit_the_library_is_refused(tmp_path):
    lib = write(tmp_path, 'lib', Library(16, 1))
    bad = write(tmp_path, 'bad', Expert(64, 16, 5))
    with pytest.raises(SystemExit, match='takes 64 input channels, but the library gives 32'):
        export_pool.main(['--library', str(lib), '--expert', f'people={bad}', '--out', str(tmp_path / 'p')])


def test_unknown_expert_names_and_class_counts_are_refused(tmp_path):
    lib = write(tmp_path, 'lib', Library(16, 1))
    e = write(tmp_path, 'e', Expert(32, 16, 5))
    with pytest.raises(SystemExit, match='not a CIFAR-100 superclass'):
        export_pool.main(['--library', str(lib), '--expert', f'stuff={e}', '--out', str(tmp_path / 'p')])
    with pytest.raises(SystemExit, match='has 5 outputs but covers 3 classes'):
        export_pool.main(['--library', str(lib), '--expert', f'k={e}', '--expert-classes', 'k=bowl,cup,plate',
                          '--out', str(tmp_path / 'p')])
    (tmp_path / 'junk.pt').write_bytes(b'nope')
    with pytest.raises(SystemExit, match='not a PyTorch file'):
        export_pool.main(['--library', str(tmp_path / 'junk.pt'), '--expert', f'people={e}', '--out', str(tmp_path / 'p')])


def test_a_part_read_back_from_tfjs_equals_the_exported_state_dict(tmp_path):
    from poe.tfjs_import import read_part
    torch.manual_seed(0)
    lib, e = Library(16, 1), Expert(32, 16, 5)
    for m in (lib, e):
        for bn in [x for x in m.modules() if isinstance(x, torch.nn.BatchNorm2d)]:
            bn.running_mean.uniform_(-1, 1)
    lp, ep = write(tmp_path, 'lib', lib), write(tmp_path, 'e', e)
    export_pool.main(['--library', str(lp), '--expert', f'people={ep}', '--out', str(tmp_path / 'pool'), '--reference-images', '2'])
    for module, folder in ((lib, 'library'), (e, 'experts/people')):
        back = read_part(tmp_path / 'pool' / folder)
        want = {k: v for k, v in module.state_dict().items() if not k.endswith('num_batches_tracked')}
        assert set(back) == set(want)
        assert all(torch.equal(back[k], want[k]) for k in want)


def test_expert_folders_are_safe_and_distinct_whatever_the_names():
    from poe.pool_export import folder_names
    assert folder_names(['people', 'cup / dog / ...', 'cup, dog', '../etc', '']) == \
        {'people': 'people', 'cup / dog / ...': 'cup_dog', 'cup, dog': 'cup_dog-2', '../etc': 'etc', '': 'expert'}
