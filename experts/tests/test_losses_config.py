import numpy as np
import pytest
import torch

from poe import config
from poe.train import ckd_loss, kd_loss, lr_at


def test_ckd_is_zero_when_the_expert_matches_the_oracle_and_positive_otherwise():
    z = torch.randn(8, 5)
    assert ckd_loss(z, z.clone(), 4.0, 0.3).item() == pytest.approx(0.0, abs=1e-6)
    assert ckd_loss(z + 1.0, z, 4.0, 0.3).item() == pytest.approx(0.3, rel=1e-5)  # same softmax, L1 scale loss only
    assert kd_loss(torch.randn(8, 5), z, 4.0).item() > 0


def test_task_mass_weights_follow_the_oracle_and_reweight_only_the_soft_loss():
    from poe.train import task_mass_weights
    z_o = torch.tensor([[9.0, 9.0, 0.0, 0.0], [0.0, 0.0, 9.0, 9.0]])  # image 0 is in the task {0, 1}, image 1 is not
    w = task_mass_weights(z_o, torch.tensor([0, 1]))
    assert w.mean().item() == pytest.approx(1.0) and w[0] > 100 * w[1]
    z_e, z_s = torch.randn(2, 2), z_o[:, :2]
    assert ckd_loss(z_e, z_s, 4.0, 0.3, torch.ones(2)).item() == pytest.approx(ckd_loss(z_e, z_s, 4.0, 0.3).item(), rel=1e-5)
    shifted = z_s + torch.tensor([[0.0], [1.0]])  # image 1 off in scale only: its soft loss is 0 whatever its weight
    assert ckd_loss(shifted, z_s, 4.0, 0.3, w).item() == pytest.approx(0.15, rel=1e-5)


def test_onecycle_schedule_rises_then_falls_to_zero():
    assert lr_at(0, 100, 0.1, 'onecycle') == 0
    assert lr_at(15, 100, 0.1, 'onecycle') == pytest.approx(0.1)
    assert lr_at(100, 100, 0.1, 'onecycle') == pytest.approx(0.0)
    assert lr_at(85, 100, 0.1, 'step') == pytest.approx(0.001)


def test_overrides_are_typed_and_unknown_keys_rejected():
    d = {'epochs': 10, 'lr': 0.1, 'device': 'cpu', 'quick': False}
    assert config.parse(d, ['--epochs=3', '--lr=1', '--device=cuda', '--quick']) == {'epochs': 3, 'lr': 1.0, 'device': 'cuda', 'quick': True}
    with pytest.raises(SystemExit, match='unknown setting --epoch'):
        config.parse(d, ['--epoch=3'])
    with pytest.raises(SystemExit, match='expects a int'):
        config.parse(d, ['--epochs=0.5'])


def test_a_flipped_teacher_averages_the_image_and_its_mirror():
    from poe.train import teacher_logits
    oracle = lambda x: x.sum(dim=(1, 2)) * torch.arange(1, x.shape[3] + 1, dtype=torch.float32)  # N x W, not mirror-symmetric
    x = torch.randn(2, 3, 4, 5)
    assert torch.equal(teacher_logits(oracle, x), oracle(x))
    assert torch.allclose(teacher_logits(oracle, x, flip=True), (oracle(x) + oracle(x.flip(3))) / 2)
    assert not torch.allclose(teacher_logits(oracle, x, flip=True), oracle(x))


def test_a_checkpoint_resumes_under_a_setting_added_later_only_while_it_is_off(tmp_path, capsys):
    import numpy as np
    import pytest
    import torch
    from poe import train
    cfg = {'epochs': 1, 'batch_size': 4, 'lr': 0.1, 'schedule': 'onecycle', 'weight_decay': 0.0}
    net = torch.nn.Linear(2, 1)

    def run(c):
        opt = train.sgd(net.parameters(), c)
        step = lambda idx: float(net(torch.ones(len(idx), 2)).sum())
        return train.run_epochs('t', tmp_path / 't.ckpt', {'net': net}, opt, c, 8, step, dict, np.random.default_rng(0))

    run(cfg)
    run({**cfg, 'teacher_cache': ''})
    assert 'resuming after epoch 1/1' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r'other settings \(teacher_cache\)'):
        run({**cfg, 'teacher_cache': 'c.pt'})
    with pytest.raises(SystemExit, match=r'other settings \(lr\)'):
        run({**cfg, 'lr': 0.2})


def test_the_consolidation_loss_sees_offsets_between_experts_that_each_experts_own_loss_cannot():
    from tune_library import consolidation_loss
    z_o = torch.randn(8, 5)
    cols = {'a': torch.tensor([3, 0]), 'b': torch.tensor([1, 4, 2])}
    exact = {t: z_o[:, c].clone() for t, c in cols.items()}
    assert consolidation_loss(exact, z_o, cols, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    shifted = {'a': exact['a'] + 2.0, 'b': exact['b']}  # expert a alone is as good as before (softmax unchanged)
    assert kd_loss(shifted['a'], z_o[:, cols['a']], 4.0).item() == pytest.approx(0.0, abs=1e-6)
    assert consolidation_loss(shifted, z_o, cols, 4.0).item() > 0.01
    together = {t: z + 2.0 for t, z in exact.items()}  # the same offset on every expert changes no query
    assert consolidation_loss(together, z_o, cols, 4.0).item() == pytest.approx(0.0, abs=1e-6)


def test_the_label_loss_is_cross_entropy_over_all_experts_logits_in_their_class_order():
    from tune_library import label_loss
    cols = {'a': torch.tensor([3, 0]), 'b': torch.tensor([1, 4, 2])}
    z = {'a': torch.tensor([[0.0, 5.0]]), 'b': torch.tensor([[1.0, 2.0, 0.5]])}
    # class 0 is expert a's second column: the 5th logit overall wins, so the loss is small; class 2 (b's third) is not
    want = lambda k: -torch.log_softmax(torch.tensor([0.0, 5.0, 1.0, 2.0, 0.5]), 0)[k].item()
    assert label_loss(z, cols, torch.tensor([0])).item() == pytest.approx(want(1), rel=1e-5)
    assert label_loss(z, cols, torch.tensor([2])).item() == pytest.approx(want(4), rel=1e-5)
    assert label_loss(z, cols, torch.tensor([0])).item() < 0.1 < label_loss(z, cols, torch.tensor([2])).item()


def test_a_calibration_folded_into_the_fc_scales_and_shifts_the_experts_logits():
    from calibrate_experts import fit, fold
    from poe.wrn import Expert
    e = Expert(32, 16, 5).eval()
    feats = torch.randn(4, 32, 16, 16)
    folded = Expert(32, 16, 5).eval()
    folded.load_state_dict(fold(e.state_dict(), 0.5, 0.25))
    with torch.no_grad():
        assert torch.allclose(folded(feats), e(feats) * 0.5 + 0.25, atol=1e-5)
    # two experts, one shifted up by 3: fitting to the labels takes most of the shift back out
    z = {'a': torch.randn(200, 2), 'b': torch.randn(200, 2) + 3.0}
    labels = torch.randint(0, 4, (200,))
    z['a'][torch.arange(200), labels.clamp(max=1)] += 2 * (labels < 2)
    z['b'][torch.arange(200), (labels - 2).clamp(min=0)] += 2 * (labels >= 2)
    _, offsets = fit(z, None, [torch.tensor([0, 1]), torch.tensor([2, 3])], labels, 'labels', 1.0)
    assert (offsets[0] - offsets[1]).item() > 2.0


def test_a_consolidation_query_ranks_only_the_experts_in_each_images_query():
    from tune_library import consolidation_loss
    z_o = torch.randn(8, 5)
    cols = {'a': torch.tensor([3, 0]), 'b': torch.tensor([1, 4, 2])}
    exact = {t: z_o[:, c].clone() for t, c in cols.items()}
    shifted = {'a': exact['a'] + 2.0, 'b': exact['b']}
    only_a = torch.tensor([[True, False]] * 8)
    both = torch.ones(8, 2, dtype=torch.bool)
    assert consolidation_loss(shifted, z_o, cols, 4.0, only_a).item() == pytest.approx(0.0, abs=1e-6)
    assert consolidation_loss(shifted, z_o, cols, 4.0, both).item() == pytest.approx(consolidation_loss(shifted, z_o, cols, 4.0).item(), rel=1e-5)
    half = torch.tensor([[True, True]] * 4 + [[True, False]] * 4)
    first4 = consolidation_loss({t: z[:4] for t, z in shifted.items()}, z_o[:4], cols, 4.0).item()
    assert consolidation_loss(shifted, z_o, cols, 4.0, half).item() == pytest.approx(first4 / 2, rel=1e-4)


def test_random_queries_hold_each_images_own_task_and_2_to_n_tasks():
    from tune_library import random_queries
    own = torch.randint(0, 20, (500,))
    q = random_queries(own, 20, 6, np.random.default_rng(0))
    assert q[torch.arange(500), own].all()
    sizes = q.sum(1)
    assert sizes.min() == 2 and sizes.max() == 6 and set(sizes.tolist()) == {2, 3, 4, 5, 6}
    # the other members are spread over all tasks, not always the same ones
    assert (q & ~torch.nn.functional.one_hot(own, 20).bool()).sum(0).min() > 20
