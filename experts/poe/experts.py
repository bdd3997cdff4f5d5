"""A build's experts as one module, forward(feats) -> (batch, experts, classes), in one of two shapes that compute
the same thing (tests/test_experts.py checks outputs and gradients):

- ExpertLoop: the experts one after another, the fastest on a CPU;
- ExpertStack: every convolution grouped (one group per expert), each batch norm over all experts' channels.
  On a GPU, 20 experts one after another are bound by kernel launches (an H100: 78.8 ms a step against 5.4 ms
  stacked, bench_expert_stack.py); stacked they cost a few kernels per layer. Its state_dict has the keys of an
  Expert, each tensor the experts' own concatenated along dim 0, so from_experts/expert_states convert exactly.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .wrn import Expert


class StackBlock(nn.Module):
    """BasicBlock with every convolution grouped: g pre-activation blocks side by side."""

    def __init__(self, g, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(g * in_planes)
        self.conv1 = nn.Conv2d(g * in_planes, g * out_planes, 3, stride, 1, groups=g, bias=False)
        self.bn2 = nn.BatchNorm2d(g * out_planes)
        self.conv2 = nn.Conv2d(g * out_planes, g * out_planes, 3, 1, 1, groups=g, bias=False)
        self.equal_in_out = in_planes == out_planes and stride == 1
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(g * in_planes, g * out_planes, 1, stride, 0, groups=g, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return out + (x if self.equal_in_out else self.convShortcut(a))


class StackNetworkBlock(nn.Module):
    def __init__(self, g, n_blocks, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[StackBlock(g, in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1)
                                     for i in range(n_blocks)])

    def forward(self, x):
        return self.layer(x)


class ExpertStack(nn.Module):
    """g Experts(in_channels, width, num_classes) fed by the same features; forward gives (batch, g, num_classes)."""

    def __init__(self, g, in_channels, width, num_classes, n_blocks=2):
        super().__init__()
        self.g, self.in_channels, self.width, self.num_classes, self.n_blocks = g, in_channels, width, num_classes, n_blocks
        self.block3 = StackNetworkBlock(g, n_blocks, in_channels, width, 2)
        self.bn1 = nn.BatchNorm2d(g * width)
        self.fc = nn.Conv2d(g * width, g * num_classes, 1, groups=g)  # g linear heads

    def forward(self, feats):
        out = F.relu(self.bn1(self.block3(feats.repeat(1, self.g, 1, 1))))
        return self.fc(F.adaptive_avg_pool2d(out, 1)).flatten(1).reshape(len(feats), self.g, self.num_classes)

    @classmethod
    def from_experts(cls, experts):
        e = experts[0]
        block = e.block3.layer[0]
        stack = cls(len(experts), block.conv1.in_channels, block.conv1.out_channels, e.fc.out_features, len(e.block3.layer))
        states = [x.state_dict() for x in experts]
        if any(s.keys() != states[0].keys() or any(s[k].shape != states[0][k].shape for k in s) for s in states):
            raise ValueError('a stack needs experts of one shape')
        stack.load_state_dict({k: v if k.endswith('num_batches_tracked') else torch.cat([s[k] for s in states]).view(v.shape)
                               for k, v in stack.state_dict().items()})
        return stack

    def expert_states(self):
        """One Expert state_dict per member, in order."""
        shapes = Expert(self.in_channels, self.width, self.num_classes, self.n_blocks).state_dict()
        state = {k: v.detach() for k, v in self.state_dict().items()}
        return [{k: state[k].clone() if k.endswith('num_batches_tracked') else state[k].chunk(self.g)[i].reshape(shape.shape).clone()
                 for k, shape in shapes.items()} for i in range(self.g)]


PAD = -1e4  # the logit of a class an expert does not have, where experts cover different numbers of classes


class ExpertLoop(nn.Module):
    """Experts one after another; forward gives (batch, experts, most classes), an expert with fewer classes
    padded with PAD (a softmax gives those columns nothing)."""

    def __init__(self, experts):
        super().__init__()
        self.members = nn.ModuleList(experts)
        self.width = max(e.fc.out_features for e in experts)

    def forward(self, feats):
        return torch.stack([F.pad(z, (0, self.width - z.shape[1]), value=PAD) for z in (e(feats) for e in self.members)], 1)

    def expert_states(self):
        return [{k: v.detach().clone() for k, v in e.state_dict().items()} for e in self.members]


def group(experts, stacked):
    """The experts as one module: stacked (ExpertStack) or one after another (ExpertLoop)."""
    counts = sorted({e.fc.out_features for e in experts})
    if stacked and len(counts) > 1:
        raise ValueError(f'--stack_experts needs tasks of one size; these have {", ".join(map(str, counts))} classes: '
                         f'train them one after another (--stack_experts=False)')
    return ExpertStack.from_experts(experts) if stacked else ExpertLoop(experts)
