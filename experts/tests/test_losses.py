"""The distillation losses and the one-cycle schedule."""
import pytest
import torch

from poe.loop import lr_at
from poe.losses import ckd_loss, consolidation_loss, kd_loss, teacher_logits


def test_ckd_is_zero_when_the_experts_match_the_oracle_and_the_scale_term_sees_a_shift():
    z = torch.randn(8, 3, 5)
    assert ckd_loss(z, z.clone(), 4.0, 0.3).item() == pytest.approx(0.0, abs=1e-6)
    # the same softmax shifted by 1 in every expert: the scale term only, alpha * 1 per expert
    assert ckd_loss(z + 1.0, z, 4.0, 0.3).item() == pytest.approx(0.9, rel=1e-5)
    assert kd_loss(torch.randn(8, 5), z[:, 0], 4.0).item() > 0


def test_ckd_of_several_experts_is_the_sum_of_each_experts_own():
    z_e, z_o = torch.randn(6, 4, 5), torch.randn(6, 4, 5) * 3
    each = sum(kd_loss(z_e[:, i], z_o[:, i], 4.0) + 0.3 * (z_e[:, i] - z_o[:, i]).abs().mean() for i in range(4))
    assert ckd_loss(z_e, z_o, 4.0, 0.3).item() == pytest.approx(each.item(), rel=1e-5)


def test_the_consolidation_loss_sees_offsets_between_experts_that_each_experts_own_loss_cannot():
    z_o = torch.randn(8, 2, 3)
    assert consolidation_loss(z_o.clone(), z_o, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    shifted = z_o.clone()
    shifted[:, 0] += 2.0  # expert 0 alone is as good as before (softmax unchanged)
    assert kd_loss(shifted[:, 0], z_o[:, 0], 4.0).item() == pytest.approx(0.0, abs=1e-6)
    assert consolidation_loss(shifted, z_o, 4.0).item() > 0.01
    assert consolidation_loss(z_o + 2.0, z_o, 4.0).item() == pytest.approx(0.0, abs=1e-6)  # the same offset everywhere changes no query


def test_the_teacher_averages_the_image_and_its_mirror():
    oracle = lambda x: x.sum(dim=(1, 2)) * torch.arange(1, x.shape[3] + 1, dtype=torch.float32)  # N x W, not mirror-symmetric
    x = torch.randn(2, 3, 4, 5)
    assert torch.allclose(teacher_logits(oracle, x), (oracle(x) + oracle(x.flip(3))) / 2)
    assert not torch.allclose(teacher_logits(oracle, x), oracle(x))


def test_onecycle_rises_then_falls_to_zero():
    assert lr_at(0, 100, 0.1) == 0
    assert lr_at(15, 100, 0.1) == pytest.approx(0.1)
    assert lr_at(100, 100, 0.1) == pytest.approx(0.0)
