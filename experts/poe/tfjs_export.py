"""Write a Library or Expert as a standard TensorFlow.js LayersModel (model.json + weights.bin).

The graph mirrors the PyTorch module layer by layer, NHWC. Two porting traps are handled here:
a stride-2 3x3 conv with PyTorch padding=1 becomes ZeroPadding2D(1) + 'valid' conv (TF 'same'
pads asymmetrically), and BatchNorm keeps PyTorch's epsilon 1e-5 (TF.js defaults to 1e-3).
"""
import json

import numpy as np
import torch.nn as nn

TFJS_VERSION = '4.22.0'


class _Graph:
    def __init__(self, name, input_shape):
        self.name = name
        self.layers = [{'class_name': 'InputLayer', 'name': 'input', 'inbound_nodes': [],
                        'config': {'name': 'input', 'batch_input_shape': [None, *input_shape],
                                   'dtype': 'float32', 'sparse': False}}]
        self.weights = []  # (name, float32 array)

    def add(self, cls, name, inputs, config, weights=()):
        self.layers.append({'class_name': cls, 'name': name, 'config': {'name': name, 'trainable': True, **config},
                            'inbound_nodes': [[[i, 0, 0, {}] for i in inputs]]})
        for wname, arr in weights:
            self.weights.append((f'{name}/{wname}', np.ascontiguousarray(arr, dtype=np.float32)))
        return name

    def conv(self, name, x, conv: nn.Conv2d):
        k, s, p = conv.kernel_size[0], conv.stride[0], conv.padding[0]
        if p not in (0, (k - 1) // 2):
            raise ValueError(f'{name}: padding {p} not supported')
        padding = 'valid'
        if p and s == 1:
            padding = 'same'
        elif p:
            x = self.add('ZeroPadding2D', name + '_pad', [x], {'padding': [[p, p], [p, p]], 'data_format': 'channels_last'})
        kernel = conv.weight.detach().cpu().numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
        return self.add('Conv2D', name, [x], {
            'filters': conv.out_channels, 'kernel_size': [k, k], 'strides': [s, s], 'padding': padding,
            'data_format': 'channels_last', 'dilation_rate': [1, 1], 'activation': 'linear', 'use_bias': False},
            [('kernel', kernel)])

    def bn(self, name, x, bn: nn.BatchNorm2d):
        g = lambda t: t.detach().cpu().numpy()
        return self.add('BatchNormalization', name, [x], {
            'axis': -1, 'momentum': 0.99, 'epsilon': float(bn.eps), 'center': True, 'scale': True},
            [('gamma', g(bn.weight)), ('beta', g(bn.bias)), ('moving_mean', g(bn.running_mean)),
             ('moving_variance', g(bn.running_var))])

    def relu(self, name, x):
        return self.add('Activation', name, [x], {'activation': 'relu'})

    def block(self, prefix, x, blk):
        a = self.relu(prefix + '_relu1', self.bn(prefix + '_bn1', x, blk.bn1))
        h = self.conv(prefix + '_conv1', a, blk.conv1)
        h = self.relu(prefix + '_relu2', self.bn(prefix + '_bn2', h, blk.bn2))
        h = self.conv(prefix + '_conv2', h, blk.conv2)
        shortcut = x if blk.equal_in_out else self.conv(prefix + '_convShortcut', a, blk.convShortcut)
        return self.add('Add', prefix + '_add', [shortcut, h], {})

    def group(self, name, x, network_block):
        for i, blk in enumerate(network_block.layer):
            x = self.block(f'{name}_{i}', x, blk)
        return x

    def model_json(self, output, weights_path='weights.bin'):
        topology = {'class_name': 'Model', 'keras_version': f'tfjs-layers {TFJS_VERSION}', 'backend': 'tensor_flow.js',
                    'config': {'name': self.name, 'layers': self.layers, 'input_layers': [['input', 0, 0]],
                               'output_layers': [[output, 0, 0]]}}
        specs = [{'name': n, 'shape': list(a.shape), 'dtype': 'float32'} for n, a in self.weights]
        return {'format': 'layers-model', 'generatedBy': 'poe-studio experts/export_pool.py', 'convertedBy': None,
                'modelTopology': topology, 'weightsManifest': [{'paths': [weights_path], 'weights': specs}]}

    def weight_bytes(self):
        return b''.join(a.astype('<f4').tobytes() for _, a in self.weights)


def library_graph(lib, input_px=32, channels=3):
    g = _Graph('library', [input_px, input_px, channels])
    x = g.conv('conv1', 'input', lib.conv1)
    x = g.group('block1', x, lib.block1)
    return g, g.group('block2', x, lib.block2)


def expert_graph(expert, name, in_shape):
    g = _Graph(name, list(in_shape))
    x = g.group('block3', 'input', expert.block3)
    x = g.relu('relu', g.bn('bn1', x, expert.bn1))
    x = g.add('GlobalAveragePooling2D', 'pool', [x], {'data_format': 'channels_last'})
    fc = expert.fc
    return g, g.add('Dense', 'fc', [x], {'units': fc.out_features, 'activation': 'linear', 'use_bias': True},
                    [('kernel', fc.weight.detach().cpu().numpy().T), ('bias', fc.bias.detach().cpu().numpy())])


def write_part(graph, output, folder):
    """Write model.json and weights.bin into folder; returns the two file paths."""
    folder.mkdir(parents=True, exist_ok=True)
    model_path, weights_path = folder / 'model.json', folder / 'weights.bin'
    model_path.write_text(json.dumps(graph.model_json(output), separators=(',', ':')))
    weights_path.write_bytes(graph.weight_bytes())
    return model_path, weights_path
