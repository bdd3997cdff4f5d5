"""ExpertStack (the GPU build's grouped experts) and ExpertLoop against the Experts they stand for: same outputs,
same gradients, same batch-norm statistics, and an exact round trip of the weights."""
import torch

from poe.experts import ExpertLoop, ExpertStack, group
from poe.losses import ckd_loss
from poe.wrn import Expert


def experts(g=4, seed=0):
    torch.manual_seed(seed)
    es = [Expert(8, 6, 5) for _ in range(g)]
    for e in es:  # non-trivial batch-norm state
        for m in e.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.data.uniform_(0.5, 1.5)
    return es


def test_stack_matches_its_experts_in_eval_and_training():
    es = experts()
    stack = ExpertStack.from_experts(es)
    x = torch.randn(7, 8, 16, 16)
    for mode in ('eval', 'train'):
        for m in (*es, stack):
            getattr(m, mode)()
        want = torch.stack([e(x) for e in es], 1)
        assert torch.allclose(stack(x), want, atol=1e-5), mode
    # training-mode forward updated the running statistics the same way
    for got, e in zip(stack.expert_states(), es):
        for k, v in e.state_dict().items():
            assert torch.allclose(got[k].float(), v.float(), atol=1e-6), k


def test_loss_and_gradients_match_the_sum_of_per_expert_ckd_losses():
    es = experts(3, seed=1)
    stack = ExpertStack.from_experts(es)
    x = torch.randn(6, 8, 16, 16, requires_grad=True)
    xs = x.detach().clone().requires_grad_(True)
    z_o = torch.randn(6, 3, 5) * 3
    # the sum of each expert's own CKD loss (soft loss + alpha * mean |logit difference|)
    ref = sum(ckd_loss(e(x)[:, None], z_o[:, i:i + 1], 4.0, 0.3) for i, e in enumerate(es))
    got = ckd_loss(stack(xs), z_o, 4.0, 0.3)
    assert torch.allclose(got, ref, atol=1e-5)
    ref.backward()
    got.backward()
    assert torch.allclose(xs.grad, x.grad, atol=1e-5)
    grads = {k: p.grad for k, p in stack.named_parameters()}
    for i, e in enumerate(es):
        for k, p in e.named_parameters():
            assert torch.allclose(grads[k].chunk(3)[i].reshape(p.shape), p.grad, atol=1e-5), k


def test_round_trip_is_exact_and_mixed_shapes_are_refused():
    es = experts()
    back = ExpertStack.from_experts(es).expert_states()
    for e, s in zip(es, back):
        assert all(torch.equal(s[k], v) for k, v in e.state_dict().items())
        Expert(8, 6, 5).load_state_dict(s)
    try:
        ExpertStack.from_experts([Expert(8, 6, 5), Expert(8, 6, 4)])
        raise AssertionError('experts of two shapes were stacked')
    except ValueError as err:
        assert 'one shape' in str(err)


def test_the_loop_and_the_stack_give_the_same_outputs_and_member_states():
    es = experts(3, seed=2)
    x = torch.randn(5, 8, 16, 16)
    loop, stack = group(es, stacked=False), group(es, stacked=True)
    assert isinstance(loop, ExpertLoop) and isinstance(stack, ExpertStack)
    assert torch.allclose(loop.eval()(x), stack.eval()(x), atol=1e-5)
    for a, b in zip(loop.expert_states(), stack.expert_states()):
        assert all(torch.equal(a[k], b[k]) for k in a)



def test_experts_of_different_class_counts_loop_padded_and_refuse_to_stack():
    from poe.experts import PAD
    es = [Expert(8, 6, 5).eval(), Expert(8, 6, 3).eval()]
    x = torch.randn(4, 8, 16, 16)
    z = group(es, stacked=False)(x)
    assert z.shape == (4, 2, 5) and torch.equal(z[:, 1, 3:], torch.full((4, 2), PAD))
    assert torch.allclose(z[:, 1, :3], es[1](x))
    try:
        group(es, stacked=True)
        raise AssertionError('experts of two class counts were stacked')
    except ValueError as err:
        assert 'tasks of one size' in str(err) and '3, 5 classes' in str(err)


def test_ckd_of_padded_experts_is_the_sum_of_each_experts_own():
    from poe.experts import PAD
    torch.manual_seed(3)
    z_e, z_o = torch.randn(6, 2, 5), torch.randn(6, 2, 5) * 3
    z_e[:, 1, 3:], z_o[:, 1, 3:] = PAD, PAD
    each = ckd_loss(z_e[:, :1], z_o[:, :1], 4.0, 0.3) + ckd_loss(z_e[:, 1:, :3], z_o[:, 1:, :3], 4.0, 0.3)
    assert torch.allclose(ckd_loss(z_e, z_o, 4.0, 0.3, torch.tensor([5.0, 3.0])), each, atol=1e-4)
