"""The data adapters: an image folder and IDX files give the same tensors and labels as the arrays they were made
from; a validation split is carved when there is none; bad data gets a specific message."""
import gzip
from pathlib import Path

import numpy as np
import pytest

from poe import data, datasets


def write_idx(path, a):
    header = bytes([0, 0, 0x08, a.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in a.shape)
    (gzip.open if path.suffix == '.gz' else open)(path, 'wb').write(header + a.astype(np.uint8).tobytes())


def write_folder(root, split, x, y, names):
    from PIL import Image
    for i, (img, c) in enumerate(zip(x, y)):
        d = root / split / names[c]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.transpose(1, 2, 0) if img.shape[0] == 3 else img[0]).save(d / f'{i:05d}.png')


def test_an_image_folder_of_cifar_pngs_gives_the_binary_readers_tensors_and_labels(tmp_path):
    x, y, _ = data.load_split('test')
    names, _ = data.label_names()
    pick = np.flatnonzero(np.isin(y, [3, 14, 71]))[:300]  # three classes, 300 images
    write_folder(tmp_path, 'train', x[pick[:240]], y[pick[:240]], names)
    write_folder(tmp_path, 'test', x[pick[240:]], y[pick[240:]], names)
    ds = datasets.open_dataset(tmp_path)
    assert ds.kind == 'folder' and ds.size == 32 and ds.channels == 3
    assert ds.class_names == sorted(names[c] for c in (3, 14, 71))
    xt, yt = ds.test
    # files are read class by class (classes in name order), each class in file-name order
    want = sorted(range(60), key=lambda i: (ds.class_names.index(names[y[pick[240 + i]]]), i))
    assert np.array_equal(xt, x[pick[240:]][want])
    assert [names.index(ds.class_names[c]) for c in yt] == list(y[pick[240:]][want])
    xtr, ytr = ds.train
    xv, yv = ds.val
    assert len(ytr) + len(yv) == 240 and len(yv) == 24 and sorted(np.bincount(yv).tolist()) == [8, 8, 8]  # 10 % of each class
    assert 'carved from the training split' in ds.notes[0]
    assert datasets.open_dataset(tmp_path).val[1].tolist() == yv.tolist()  # the same carve again (and read from the cache)
    assert np.allclose(ds.mean, (xtr / 255.0).mean(axis=(0, 2, 3)))


def test_grey_images_of_other_sizes_are_resized_and_kept_grey(tmp_path):
    from PIL import Image
    for c in ('a', 'b'):
        (tmp_path / 'train' / c).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((40, 50), 40 * i, np.uint8)).save(tmp_path / 'train' / c / f'{i}.png')
    with pytest.raises(ValueError, match='is 50 x 40: images of one square size, or give --size=N'):
        datasets.open_dataset(tmp_path)
    ds = datasets.open_dataset(tmp_path, size=16)
    assert ds.train[0].shape[1:] == (1, 16, 16) and ds.input_spec()['channels'] == 'L'
    (tmp_path / 'train' / 'a' / 'bad.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match='bad.png is not an image'):
        datasets.open_dataset(tmp_path, size=16)


def test_idx_files_read_with_their_test_split_and_class_names(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (50, 28, 28)), np.arange(50) % 5
    write_idx(tmp_path / 'train-images-idx3-ubyte.gz', x)
    write_idx(tmp_path / 'train-labels-idx1-ubyte.gz', y)
    write_idx(tmp_path / 't10k-images-idx3-ubyte.gz', x[:10])
    write_idx(tmp_path / 't10k-labels-idx1-ubyte.gz', y[:10])
    (tmp_path / 'classes.txt').write_text('a\nb\nc\nd\ne\n')
    ds = datasets.open_dataset(tmp_path)
    assert ds.kind == 'idx' and ds.class_names == list('abcde') and ds.channels == 1 and ds.size == 28
    assert np.array_equal(ds.test[0][:, 0], x[:10]) and ds.test[1].tolist() == y[:10].tolist()
    assert len(ds.train[1]) + len(ds.val[1]) == 50
    raw = (tmp_path / 'train-images-idx3-ubyte.gz')
    write_idx(raw, x)
    data_ = gzip.open(raw).read()
    with gzip.open(raw, 'wb') as f:
        f.write(data_[:-100])
    with pytest.raises(ValueError, match='truncated'):
        datasets.open_dataset(tmp_path)


def test_cifar100_keeps_its_split_statistics_and_superclasses():
    ds = datasets.open_dataset()
    assert ds.kind == 'cifar100' and ds.mean == data.MEAN and len(ds.groups) == 20 and len(ds.val[1]) == 5000
    assert ds.input_spec() == {'sizePx': 32, 'channels': 'RGB', 'range': [0, 255], 'layout': 'NHWC',
                               'mean': list(data.MEAN), 'std': list(data.STD)}


def test_a_folder_without_a_dataset_gets_a_message_naming_the_three_layouts(tmp_path):
    with pytest.raises(data.DataMissing, match='image folder .*IDX files'):
        datasets.open_dataset(tmp_path)
    with pytest.raises(data.DataMissing, match='no dataset at'):
        datasets.open_dataset(tmp_path / 'nowhere')


FASHION = Path('/usr/share/datasets/fashion-mnist')


@pytest.mark.skipif(not FASHION.exists(), reason='Debian package dataset-fashion-mnist not installed')
def test_debians_fashion_mnist_reads_as_60000_and_10000_grey_28_pixel_images():
    ds = datasets.open_dataset(FASHION)
    assert len(ds.train[1]) + len(ds.val[1]) == 60000 and len(ds.test[1]) == 10000
    assert ds.size == 28 and ds.channels == 1 and np.bincount(ds.test[1]).tolist() == [1000] * 10


def test_classes_name_data_that_names_none_and_a_wrong_count_is_refused(tmp_path):
    x, y = np.random.default_rng(1).integers(0, 256, (30, 28, 28)), np.arange(30) % 3
    write_idx(tmp_path / 'train-images-idx3-ubyte', x)
    write_idx(tmp_path / 'train-labels-idx1-ubyte', y)
    assert datasets.open_dataset(tmp_path).class_names == ['0', '1', '2']
    assert datasets.open_dataset(tmp_path, classes='cat, dog,bird').class_names == ['cat', 'dog', 'bird']
    with pytest.raises(ValueError, match='--classes names 2 classes .* has 3'):
        datasets.open_dataset(tmp_path, classes='cat,dog')
    with pytest.raises(ValueError, match='distinct'):
        datasets.open_dataset(tmp_path, classes='cat,cat,dog')


def test_make_sample_writes_a_pools_sample_and_class_pictures(tmp_path):
    import json
    import subprocess
    import sys
    repo = Path(__file__).resolve().parents[2]
    x, y = np.random.default_rng(2).integers(0, 256, (60, 28, 28)), np.arange(60) % 3
    for split, n in (('train', 60), ('t10k', 30)):
        write_idx(tmp_path / f'{split}-images-idx3-ubyte', x[:n])
        write_idx(tmp_path / f'{split}-labels-idx1-ubyte', y[:n])
    pool = tmp_path / 'pool'
    pool.mkdir()
    (pool / 'pool.json').write_text(json.dumps({'input': {'sizePx': 28, 'channels': 'L'},
                                                'classes': [{'index': i, 'name': n, 'task': 't'} for i, n in enumerate(['a', 'b', 'c'])]}))
    run = lambda *extra: subprocess.run([sys.executable, str(repo / 'experts/tools/make_sample.py'), '--pool', str(pool), '--data', str(tmp_path), *extra],
                                        capture_output=True, text=True)
    r = run('--classes', 'a,b,c', '--per-class', '4')
    assert r.returncode == 0, r.stderr
    meta = json.loads((pool / 'sample.json').read_text())
    assert meta['count'] == 12 and meta['channels'] == 'L' and meta['labels'] == [0] * 4 + [1] * 4 + [2] * 4
    assert (pool / 'sample.bin').read_bytes() == np.ascontiguousarray(x[:30][np.concatenate([np.flatnonzero(y[:30] == c)[:4] for c in range(3)])]).astype(np.uint8).tobytes()
    assert json.loads((pool / 'class-thumbs.json').read_text())['classes'] == ['a', 'b', 'c']
    r = run()  # the data's own names (0, 1, 2) are not the pool's
    assert r.returncode != 0 and "the pool's classes a, b, c are not in" in r.stderr
