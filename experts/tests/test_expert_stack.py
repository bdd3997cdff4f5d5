"""ExpertStack (the GPU build's grouped experts) against the Experts it stands for: same outputs, same
gradients, same batch-norm statistics, and an exact round trip of the weights."""
import torch

from poe import train
from poe.expert_stack import ExpertStack, stack_ckd_loss
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
    ref = sum(train.ckd_loss(e(x), z_o[:, i], 4.0, 0.3) for i, e in enumerate(es))
    got = stack_ckd_loss(stack(xs), z_o, 4.0, 0.3)
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
