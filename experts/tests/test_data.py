import numpy as np
import pytest
import torch

from poe import data


def test_reads_the_test_split_and_its_superclasses():
    x, fine, coarse = data.load_split('test')
    assert x.shape == (10_000, 3, 32, 32) and x.dtype == np.uint8
    assert np.bincount(fine).tolist() == [100] * 100
    groups = data.superclasses(fine, coarse)
    assert len(groups) == 20 and all(len(g) == 5 for g in groups)
    fine_names, coarse_names = data.label_names()
    assert coarse_names[14] == 'people' and [fine_names[i] for i in groups[14]] == ['baby', 'boy', 'girl', 'man', 'woman']


def test_validation_split_is_class_balanced_and_disjoint_from_training():
    _, fine_val, _ = data.load_split('val')
    assert np.bincount(fine_val).tolist() == [data.N_VAL_PER_CLASS] * 100
    x_train, _, _ = data.load_split('train')
    assert len(x_train) == 45_000


def test_missing_dataset_gets_a_clear_message(tmp_path):
    with pytest.raises(data.DataMissing, match='CIFAR-100 not found at .*POE_DATA_DIR'):
        data.load_split('test', tmp_path / 'nowhere')
    with pytest.raises(data.DataMissing, match='no test files'):
        data.load_split('test', tmp_path)


def test_augment_keeps_shape_and_flips_or_shifts():
    x = np.random.default_rng(0).integers(0, 255, (16, 3, 32, 32), dtype=np.uint8)
    y = data.augment(x, torch.Generator().manual_seed(1))
    assert y.shape == x.shape and y.dtype == torch.uint8 and not np.array_equal(x, y.numpy())


def test_normalize_gives_the_models_input_on_the_images_device():
    z = data.normalize(np.full((2, 3, 4, 4), 255, dtype=np.uint8))
    assert z.dtype == torch.float32 and torch.allclose(z[0, :, 0, 0], (1 - torch.tensor(data.MEAN)) / torch.tensor(data.STD))
