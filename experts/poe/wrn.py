"""WideResNet in the common PyTorch parameter layout (conv1, blockK.layer.N.{bn1,conv1,bn2,conv2,
convShortcut}, bn1, fc), plus the Pool-of-Experts split into a library and experts.

Library = conv1 + block1 + block2 of a WRN-16-1 (output 32 x 16 x 16 for 32 x 32 input).
Any square input size and channel count: the stem's strides follow the size (stem_strides), so the library's
output stays 16 x 16 or smaller (28 -> 14, 32 -> 16, 64 -> 16, 96 -> 12).
Expert  = block3 (+ bn1, fc) at a reduced width, fed by the library's output.
"""
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """Pre-activation block. With a width change, BN+ReLU of the input feeds both paths."""

    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equal_in_out = in_planes == out_planes and stride == 1
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return out + (x if self.equal_in_out else self.convShortcut(a))


class NetworkBlock(nn.Module):
    def __init__(self, n_blocks, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[
            BasicBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1)
            for i in range(n_blocks)])

    def forward(self, x):
        return self.layer(x)


def blocks_per_group(depth):
    assert (depth - 4) % 6 == 0, f'WideResNet depth must be 6n+4, got {depth}'
    return (depth - 4) // 6


def stem_strides(size):
    """(conv1 stride, block1 stride) for a square input of size pixels: 1, 1 up to 32; then 2, 1 up to 64; then 2, 2."""
    return (1 if size <= 32 else 2), (1 if size <= 64 else 2)


class WideResNet(nn.Module):
    def __init__(self, depth=16, widen=1, num_classes=100, in_channels=3, size=32):
        super().__init__()
        n = blocks_per_group(depth)
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        s0, s1 = stem_strides(size)
        self.conv1 = nn.Conv2d(in_channels, ch[0], 3, s0, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], s1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], num_classes)
        init_weights(self)

    def features(self, x):
        """The library part: conv1, block1, block2."""
        return self.block2(self.block1(self.conv1(x)))

    def forward(self, x):
        out = F.relu(self.bn1(self.block3(self.features(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


class Library(nn.Module):
    """Lower part of a WideResNet; its state_dict keys match the full model's (conv1, block1, block2)."""

    def __init__(self, depth=16, widen=1, in_channels=3, size=32):
        super().__init__()
        n = blocks_per_group(depth)
        s0, s1 = stem_strides(size)
        self.conv1 = nn.Conv2d(in_channels, 16, 3, s0, 1, bias=False)
        self.block1 = NetworkBlock(n, 16, 16 * widen, s1)
        self.block2 = NetworkBlock(n, 16 * widen, 32 * widen, 2)
        self.out_channels = 32 * widen
        init_weights(self)

    def forward(self, x):
        return self.block2(self.block1(self.conv1(x)))


class Expert(nn.Module):
    """Upper part of a WideResNet (block3, bn1, fc) at its own width, for one primitive task."""

    def __init__(self, in_channels, width, num_classes, n_blocks=2):
        super().__init__()
        self.block3 = NetworkBlock(n_blocks, in_channels, width, 2)
        self.bn1 = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, num_classes)
        init_weights(self)

    def forward(self, feats):
        out = F.relu(self.bn1(self.block3(feats)))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def init_weights(module):
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def _prefixed(state, prefixes):
    return {k: v for k, v in state.items() if k.split('.')[0] in prefixes and not k.endswith('num_batches_tracked')}


def library_from_state_dict(state, size=32):
    """Build a Library from a state_dict of a library or a whole WideResNet for inputs of size pixels; depth, width
    and input channels from the shapes."""
    state = strip_module_prefix(state)
    missing = [k for k in ('conv1.weight', 'block1.layer.0.conv1.weight', 'block2.layer.0.conv1.weight') if k not in state]
    if missing:
        raise ValueError(f'not a WideResNet library state_dict: missing {", ".join(missing)}')
    n = len({k.split('.')[2] for k in state if k.startswith('block1.layer.')})
    widen = state['block1.layer.0.conv1.weight'].shape[0] // 16
    lib = Library(depth=6 * n + 4, widen=widen, in_channels=state['conv1.weight'].shape[1], size=size)
    _check_loaded(lib, state, 'library')
    lib.load_state_dict(_prefixed(state, {'conv1', 'block1', 'block2'}), strict=False)
    return lib


def expert_from_state_dict(state):
    """Build an Expert from a state_dict holding block3, bn1 and fc; widths and classes from shapes."""
    state = strip_module_prefix(state)
    missing = [k for k in ('block3.layer.0.conv1.weight', 'bn1.weight', 'fc.weight') if k not in state]
    if missing:
        raise ValueError(f'not a WideResNet expert state_dict: missing {", ".join(missing)}')
    w = state['block3.layer.0.conv1.weight']
    n = len({k.split('.')[2] for k in state if k.startswith('block3.layer.')})
    expert = Expert(in_channels=w.shape[1], width=w.shape[0], num_classes=state['fc.weight'].shape[0], n_blocks=n)
    _check_loaded(expert, state, 'expert')
    expert.load_state_dict(_prefixed(state, {'block3', 'bn1', 'fc'}), strict=False)
    return expert


def _check_loaded(module, state, what):
    want = [k for k in module.state_dict() if not k.endswith('num_batches_tracked')]
    absent = [k for k in want if k not in state]
    if absent:
        raise ValueError(f'{what} state_dict lacks {len(absent)} tensors, e.g. {absent[0]}')
    for k in want:
        if tuple(state[k].shape) != tuple(module.state_dict()[k].shape):
            raise ValueError(f'{what} tensor {k} has shape {tuple(state[k].shape)}, expected {tuple(module.state_dict()[k].shape)}')


def strip_module_prefix(state):
    if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    return {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
