"""Primitive tasks formed from the oracle's confusions (--tasks=auto:K): K groups of balanced size in which the
classes the oracle mixes up share an expert, so that its mistakes stay inside one expert, where a query among
them is a query of one expert, rather than between experts, where the experts' logits must be compared."""
import numpy as np


def confusion(probs, y, n_classes):
    """C[i, j]: the oracle's mean probability of class j on the validation images of class i."""
    c = np.zeros((n_classes, n_classes))
    for i in range(n_classes):
        if (y == i).any():
            c[i] = probs[y == i].mean(0)
    return c


def balanced_groups(c, k, names):
    """K groups of sizes differing by at most one. Each group starts from the unassigned class most confused with
    the others still unassigned, then takes, one at a time, the class most confused with the group so far."""
    n = len(c)
    if not 1 <= k <= n:
        raise SystemExit(f'error: --tasks=auto:{k}: K must be between 1 and the number of classes ({n})')
    s = (c + c.T) / 2
    np.fill_diagonal(s, 0)
    sizes = [n // k + (i < n % k) for i in range(k)]
    left = set(range(n))
    groups = {}
    for size in sizes:
        rest = sorted(left)
        seed = max(rest, key=lambda i: (s[i, rest].sum(), -i))
        members = [seed]
        left.remove(seed)
        while len(members) < size:
            best = max(sorted(left), key=lambda j: (s[j, members].sum(), -j))
            members.append(best)
            left.remove(best)
        members.sort()
        groups[' / '.join(names[m] for m in members[:2]) + (' / ...' if len(members) > 2 else '')] = members
    return groups


def cross_expert_share(c, groups):
    """The share of the oracle's confusion mass (off the diagonal) that falls between groups: the lower, the more
    of its mistakes stay inside one expert."""
    owner = np.empty(len(c), int)
    for g, members in enumerate(groups.values()):
        owner[members] = g
    off = c.copy()
    np.fill_diagonal(off, 0)
    between = off[owner[:, None] != owner[None, :]].sum()
    return float(between / max(off.sum(), 1e-12))
