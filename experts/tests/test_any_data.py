"""Pools from other data through the same builder: an image folder resized to 64 pixels with tasks from a file
(tasks of different sizes), and grey 28-pixel IDX files; the pool records the input it takes."""
import json

import numpy as np
import pytest
import torch

from poe import evaluate, pipeline
from test_datasets import write_folder, write_idx

SMALL = {'n_train': 0, 'n_val': 0, 'teacher_views': 1, 'tune_consolidation': (0.1,), 'oracle_epochs': 1}


def test_an_image_folder_at_64_pixels_with_tasks_from_a_file(tiny_cfg, tmp_path):
    rng = np.random.default_rng(0)
    names = ['apple', 'boat', 'cup', 'dog', 'egg']
    y = np.arange(150) % 5
    x = (rng.integers(0, 60, (150, 3, 8, 8)) + 40 * y[:, None, None, None]).astype(np.uint8).repeat(8, 2).repeat(8, 3)  # 64 x 64
    write_folder(tmp_path / 'data', 'train', x[:120], y[:120], names)
    write_folder(tmp_path / 'data', 'test', x[120:], y[120:], names)
    (tmp_path / 'tasks.json').write_text(json.dumps({'food': ['apple', 'egg', 'cup'], 'boats / dogs': ['boat', 'dog']}))
    cfg = tiny_cfg(**SMALL, data=str(tmp_path / 'data'), tasks=str(tmp_path / 'tasks.json'))
    pipeline.run(cfg, 'folder')
    manifest = json.loads((tmp_path / 'pool' / 'pool.json').read_text())
    assert manifest['input']['sizePx'] == 64 and manifest['input']['channels'] == 'RGB'
    assert manifest['library']['outputShape'] == [16, 16, 32]  # the stem's stride keeps the library's output at 16 x 16
    assert [(e['name'], len(e['classes'])) for e in manifest['experts']] == [('food', 3), ('boats / dogs', 2)]
    assert manifest['experts'][1]['files']['model']['path'] == 'experts/boats_dogs/model.json'  # free-text names, safe folders
    assert [c['name'] for c in manifest['classes']] == names
    _, lib, experts, tasks = evaluate.load_build(tmp_path / 'b')
    ref = json.loads((tmp_path / 'pool' / 'reference.json').read_text())
    assert ref['images']['shape'][1:] == [64, 64, 3]
    plib, pexperts, _ = evaluate.load_pool(tmp_path / 'pool')
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(pexperts['food'](plib(x)), experts['food'](lib(x)), atol=1e-5)


def test_grey_idx_images_give_a_grey_28_pixel_pool(tiny_cfg, tmp_path):
    rng = np.random.default_rng(1)
    y = np.arange(120) % 4
    x = (rng.integers(0, 50, (120, 28, 28)) + 50 * y[:, None, None]).astype(np.uint8)
    for prefix, sl in (('train', slice(0, 100)), ('t10k', slice(100, 120))):
        write_idx(tmp_path / f'{prefix}-images-idx3-ubyte.gz', x[sl])
        write_idx(tmp_path / f'{prefix}-labels-idx1-ubyte.gz', y[sl])
    (tmp_path / 'tasks.json').write_text(json.dumps({'low': ['0', '1'], 'high': ['2', '3']}))
    cfg = tiny_cfg(**SMALL, data=str(tmp_path), tasks=str(tmp_path / 'tasks.json'))
    pipeline.run(cfg, 'idx')
    m = json.loads((tmp_path / 'pool' / 'pool.json').read_text())
    assert m['input']['sizePx'] == 28 and m['input']['channels'] == 'L' and len(m['input']['mean']) == 1
    assert m['library']['outputShape'] == [14, 14, 32]
    assert abs(m['input']['mean'][0] - float((x[:100] / 255).mean())) < 0.05  # from the training split (less the carved validation)


def test_tasks_must_name_the_datasets_classes_once(tiny_cfg, tmp_path):
    (tmp_path / 'tasks.json').write_text(json.dumps({'a': ['apple', 'pear'], 'b': ['apple']}))
    with pytest.raises(SystemExit, match='class apple is in both a and b'):
        pipeline.run(tiny_cfg(tasks=str(tmp_path / 'tasks.json')), 'x')
    (tmp_path / 'tasks.json').write_text(json.dumps({'a': ['apple', 'pearr']}))
    with pytest.raises(SystemExit, match='unknown class pearr'):
        pipeline.run(tiny_cfg(tasks=str(tmp_path / 'tasks.json')), 'x')
    with pytest.raises(SystemExit, match='not a readable JSON file'):
        pipeline.run(tiny_cfg(tasks=str(tmp_path / 'missing.json')), 'x')


def test_auto_groups_put_the_classes_the_oracle_confuses_together_and_are_balanced():
    from poe import grouping
    rng = np.random.default_rng(0)
    planted = [[0, 4, 7], [1, 2, 9], [3, 5, 6, 8]]  # classes confused with each other
    c = np.eye(10) * 0.6 + rng.random((10, 10)) * 0.01
    for g in planted:
        for i in g:
            for j in g:
                if i != j:
                    c[i, j] += 0.2
    groups = grouping.balanced_groups(c, 3, [str(i) for i in range(10)])
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, planted))
    assert grouping.cross_expert_share(c, groups) < 0.2 < grouping.cross_expert_share(c, {'a': [0, 1, 2], 'b': [3, 4, 5], 'c': [6, 7, 8, 9]})
    assert sorted(len(g) for g in grouping.balanced_groups(c, 4, list('abcdefghij')).values()) == [2, 2, 3, 3]
    with pytest.raises(SystemExit, match='between 1 and the number of classes'):
        grouping.balanced_groups(c, 11, list('abcdefghij'))


def test_auto_tasks_are_formed_after_the_oracle_and_kept_with_the_build(tiny_cfg, tmp_path):
    cfg = tiny_cfg(tasks='auto:4', tune_consolidation=(0.1,), stages='oracle,teacher,library,experts')
    pipeline.run(cfg, 'auto')
    saved = json.loads((tmp_path / 'b' / 'tasks.json').read_text())
    assert saved['spec'] == 'auto:4' and sorted(len(c) for c in saved['tasks'].values()) == [25, 25, 25, 25]
    assert sorted(c for g in saved['tasks'].values() for c in g) == list(range(100))
    from poe import checkpoint
    assert checkpoint.load(tmp_path / 'b' / 'experts.pt')['tasks'] == saved['tasks']
