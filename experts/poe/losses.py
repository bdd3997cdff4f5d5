"""The distillation losses of POE.md. Expert logits come as one tensor (batch, experts, classes), from the experts
one after another or stacked (poe/experts.py): the same loss either way."""
import torch.nn.functional as F


def kd_loss(student_logits, teacher_logits, T):
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), batch mean."""
    return F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                    reduction='batchmean', log_target=True) * T * T


def ckd_loss(expert_logits, oracle_logits, T, alpha, counts=None):
    """Conditional KD summed over the experts: each expert's soft loss on its own classes' oracle logits plus
    alpha times the mean L1 distance of its raw logits (the scale term that lets experts be compared).
    expert_logits and oracle_logits (the oracle's columns of each expert's classes) are (batch, experts, classes);
    where experts have fewer classes than the widest, both are padded with the same very negative logit and
    counts (one per expert) says how many are real."""
    kl = F.kl_div(F.log_softmax(expert_logits / T, 2), F.log_softmax(oracle_logits / T, 2), reduction='sum', log_target=True)
    diff = (expert_logits - oracle_logits).abs()
    scale = diff.mean() * diff.shape[1] if counts is None else (diff.sum(dim=(0, 2)) / (len(diff) * counts)).sum()
    return kl / len(expert_logits) * T * T + alpha * scale


def consolidation_loss(expert_logits, oracle_logits, T):
    """KD from the oracle to the model that consolidates every expert (all their logits side by side). A query's
    softmax is this one restricted to its classes, so matching it ranks the experts against each other as the
    oracle would, which no expert's own loss can see. Shapes as in ckd_loss."""
    return kd_loss(expert_logits.flatten(1), oracle_logits.flatten(1), T)


def teacher_logits(oracle, xb):
    """The oracle's logits averaged over the batch and its mirror: a flip-invariant, stronger teacher."""
    return (oracle(xb) + oracle(xb.flip(3))) / 2
