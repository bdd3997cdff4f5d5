// One peer of `npm run bench`'s ratio section, in a page of its own (bench.html?peer=...&threads=N):
// the 5-expert model loaded once, then idle until the bench asks for a timed block (bench/ratios.ts).
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web/wasm';
import type { Pool } from '../ml/pool';
import { channelCount } from '../ml/pool/poolManifest';
import { compilePlan } from '../ml/run/plan';
import { onnxModel } from '../ml/export/onnxExport';
import { ortSession, ortVersion } from './onnxRuntime';
import { modelFlops } from './flops';

export type PeerKind = 'plan' | 'layers' | 'ort';

export interface Block {
  images: number;
  seconds: number;
}

export interface PeerApi {
  runtime: string;
  /** FLOPs per image of the model. */
  flops: number;
  /** One untimed call, then as many calls as fit in ms, at this batch size. */
  block(batch: number, ms: number): Promise<Block>;
  /** This page's wasm matrix-multiply rate (a 1024^3 float32 matMul, TF.js), GFLOP/s over ms: the ceiling the model is held to. */
  ceiling(ms: number): Promise<number>;
}

const EXPERTS = 5;
const N = 1024; // the ceiling's matMul size: large enough that threads split it evenly

async function timed(step: () => Promise<unknown>, batch: number, ms: number): Promise<Block> {
  await step();
  let k = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await step();
    k++;
  }
  return { images: k * batch, seconds: (performance.now() - t0) / 1000 };
}

export async function startPeer(pool: Pool, kind: PeerKind, threads: number): Promise<PeerApi> {
  const size = pool.manifest.input.sizePx;
  const channels = channelCount(pool.manifest.input);
  const c = pool.consolidate(pool.manifest.experts.slice(0, EXPERTS).map((e) => e.name));
  const model = (c as unknown as { model: tf.LayersModel }).model;
  const flops = modelFlops(model);
  const ceiling = async (ms: number) => {
    const a = tf.randomNormal([N, N]);
    const b = tf.randomNormal([N, N]);
    const r = await timed(async () => {
      const y = tf.matMul(a, b);
      await y.data();
      y.dispose();
    }, 1, ms);
    tf.dispose([a, b]);
    return (2 * N ** 3 * r.images) / r.seconds / 1e9;
  };
  if (kind === 'ort') {
    const session = await ortSession(onnxModel(c, pool.manifest));
    const inputs = new Map<number, ort.Tensor>();
    return {
      runtime: ortVersion(),
      flops,
      ceiling,
      block: (batch, ms) => {
        if (!inputs.has(batch)) inputs.set(batch, new ort.Tensor('float32', Float32Array.from({ length: batch * size * size * channels }, () => Math.random() * 255), [batch, size, size, channels]));
        return timed(() => session.run({ pixels: inputs.get(batch)! }), batch, ms);
      },
    };
  }
  const plan = kind === 'plan' ? compilePlan(model) : null;
  if (kind === 'plan' && !plan) throw new Error('the 5-expert model did not compile to a plan');
  const runner = plan ?? model;
  const inputs = new Map<number, tf.Tensor>();
  return {
    runtime: `TF.js ${tf.version.tfjs} (wasm, ${threads} thread${threads > 1 ? 's' : ''}, ${kind === 'plan' ? 'compiled plan' : 'LayersModel.predict'})`,
    flops,
    ceiling,
    block: (batch, ms) => {
      if (!inputs.has(batch)) inputs.set(batch, tf.randomUniform([batch, size, size, channels], 0, 255));
      return timed(async () => {
        const y = tf.tidy(() => runner.predict(inputs.get(batch)!) as tf.Tensor);
        await y.data();
        y.dispose();
      }, batch, ms);
    },
  };
}
