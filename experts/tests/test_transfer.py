import json

import numpy as np
import pytest
import torch

from poe import transfer
from poe.wrn import Library


def test_transfer_trains_a_head_on_augmented_images_and_stops_when_told():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 3, 32, 32), dtype=np.uint8)
    y = np.array([3, 7] * 20)
    x[y == 7] //= 4  # a class of dark images, so there is something to learn
    seen = []
    head = transfer.train(Library(16, 1).eval(), x, y, [3, 7], {'lr': 0.1, 'weight_decay': 5e-3}, epochs=3,
                          after_epoch=lambda epoch, h: seen.append((epoch, h.training)) or epoch == 2)
    assert seen == [(1, False), (2, False)]  # evaluated in eval mode after each epoch, stopped after the second
    assert not head.training
    assert head(torch.zeros(2, 32, 16, 16)).shape == (2, 2)


def test_query_targets_remaps_labels_to_the_query_order():
    mask, t = transfer.query_targets([9, 4], np.array([4, 1, 9, 9, 4]))
    assert mask.tolist() == [True, False, True, True, True]
    assert t.tolist() == [1, 0, 0, 1]


def test_the_bench_reuses_the_tuning_recorded_for_results_md(tmp_path):
    f = tmp_path / 'RESULTS.json'
    f.write_text(json.dumps({'transfer_tuning': {'lr': 0.3, 'weight_decay': 0.005, 'query': ['people'], 'val_top1': {}}}))
    assert transfer.tuned_hyperparameters(f) == {'lr': 0.3, 'weight_decay': 0.005, 'epochs': transfer.EPOCHS}
    with pytest.raises(SystemExit, match='no Transfer tuning'):
        transfer.tuned_hyperparameters(tmp_path / 'missing.json')
