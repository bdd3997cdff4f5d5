import * as tf from '@tensorflow/tfjs';
import { readSplit, type CifarSplit } from '../cli/lib/cifar';
import { useNodeBackend } from '../src/node';
import type { LoadedPool } from '../src/ml/poolModels';
import { poolGraph } from '../src/ml/poolGraph';

export interface TrainingBaseline {
  framework: string;
  query: string;
  classes: number;
  trainImages: number;
  target: number;
  reachedTargetSeconds: number | null;
  budgetSeconds: number;
  best: number;
  epochs: number;
  seconds: number;
}

function subset(split: CifarSplit, classes: number[]) {
  const remap = new Map(classes.map((c, i) => [c, i]));
  const idx: number[] = [];
  for (let i = 0; i < split.count; i++) if (remap.has(split.fine[i])) idx.push(i);
  const images = new Uint8Array(idx.length * 3072);
  idx.forEach((src, j) => images.set(split.images.subarray(src * 3072, (src + 1) * 3072), j * 3072));
  return { images, labels: Int32Array.from(idx, (i) => remap.get(split.fine[i])!), count: idx.length };
}

/** Frozen library features of the images, computed on the active backend, returned as plain floats. */
async function features(pool: LoadedPool, images: Uint8Array, count: number): Promise<Float32Array> {
  const g = poolGraph(pool);
  const lib = tf.model({ inputs: g.input, outputs: g.features });
  const per = 16 * 16 * 32;
  const out = new Float32Array(count * per);
  for (let s = 0; s < count; s += 250) {
    const n = Math.min(250, count - s);
    const y = tf.tidy(() => lib.predict(tf.tensor4d(images.subarray(s * 3072, (s + n) * 3072), [n, 32, 32, 3], 'int32').toFloat()) as tf.Tensor);
    out.set(await y.data(), s * per);
    y.dispose();
  }
  return out;
}

/** An expert-shaped head (block3 at width 16, BN, ReLU, pooling, dense) with fresh weights. */
function head(classes: number): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 32] });
  const bn = (x: tf.SymbolicTensor) => tf.layers.batchNormalization({ epsilon: 1e-5 }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  const conv = (x: tf.SymbolicTensor, k: number, s: number, padding: 'same' | 'valid') =>
    tf.layers.conv2d({ filters: 16, kernelSize: k, strides: s, padding, useBias: false, kernelInitializer: 'heNormal' }).apply(x) as tf.SymbolicTensor;
  const a = relu(bn(input));
  let h = conv(tf.layers.zeroPadding2d({ padding: 1 }).apply(a) as tf.SymbolicTensor, 3, 2, 'valid');
  h = conv(relu(bn(h)), 3, 1, 'same');
  let x = tf.layers.add().apply([conv(a, 1, 2, 'valid'), h]) as tf.SymbolicTensor;
  const b = conv(relu(bn(x)), 3, 1, 'same');
  x = tf.layers.add().apply([x, conv(relu(bn(b)), 3, 1, 'same')]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(relu(bn(x))) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: classes, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/**
 * The "Transfer" baseline in TF.js: frozen library features (computed on wasm, which has no conv
 * gradients), then a new head trained with cross-entropy on the cpu backend until it reaches
 * `target` test accuracy or the budget runs out. Time counts from the start, features included.
 */
export async function transferBaselineTfjs(pool: LoadedPool, dataDir: string, experts: string[], target: number, budgetSeconds: number): Promise<TrainingBaseline> {
  const classes = experts.flatMap((e) => pool.manifest.experts.find((x) => x.name === e)!.classes);
  const train = subset(readSplit(dataDir, 'train'), classes);
  const test = subset(readSplit(dataDir, 'test'), classes);
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const ftr = await features(pool, train.images, train.count);
  const fte = await features(pool, test.images, test.count);
  await useNodeBackend('cpu');
  const model = head(classes.length);
  model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'sparseCategoricalCrossentropy' });
  const xtr = tf.tensor4d(ftr, [train.count, 16, 16, 32]);
  const ytr = tf.tensor1d(train.labels, 'float32');
  const xte = tf.tensor4d(fte, [test.count, 16, 16, 32]);
  let epochs = 0, best = 0, reached: number | null = null;
  let batches = 0;
  const evaluate = async () => {
    const pred = tf.tidy(() => (model.predict(xte) as tf.Tensor).argMax(1));
    const p = await pred.data();
    pred.dispose();
    let right = 0;
    for (let i = 0; i < test.count; i++) if (p[i] === test.labels[i]) right++;
    return right / test.count;
  };
  // Batch by batch, so that the budget is respected even when one epoch takes longer than it.
  while (seconds() < budgetSeconds && reached === null) {
    const order = tf.util.createShuffledIndices(train.count);
    for (let s = 0; s < train.count && seconds() < budgetSeconds; s += 128) {
      const idx = tf.tensor1d(Int32Array.from(order.slice(s, s + 128)), 'int32');
      const [xb, yb] = [tf.gather(xtr, idx), tf.gather(ytr, idx)];
      await model.trainOnBatch(xb, yb);
      tf.dispose([idx, xb, yb]);
      batches++;
    }
    const acc = await evaluate();
    best = Math.max(best, acc);
    if (acc >= target) reached = seconds();
  }
  epochs = Math.round((100 * batches) / Math.ceil(train.count / 128)) / 100;
  tf.dispose([xtr, ytr, xte]);
  model.dispose();
  await useNodeBackend('wasm');
  return { framework: `TF.js ${tf.version.tfjs} (cpu backend training, wasm features)`, query: experts.join(','), classes: classes.length,
    trainImages: train.count, target, reachedTargetSeconds: reached, budgetSeconds, best, epochs, seconds: seconds() };
}
