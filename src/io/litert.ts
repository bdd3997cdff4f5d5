import { loadLiteRt, Tensor, type CompiledModel } from '@litertjs/core';
import { PoeError } from '../ml/errors';

let loading: Promise<unknown> | undefined;

/** Starts Google's LiteRT.js runtime once, from the folder that serves its .js/.wasm files. */
export function startLiteRt(wasmDir: string): Promise<unknown> {
  loading ??= loadLiteRt(wasmDir).catch((e: unknown) => {
    loading = undefined;
    throw new PoeError('BACKEND_UNAVAILABLE', `LiteRT.js (Google's TFLite runtime) could not start from ${wasmDir}: ${e instanceof Error ? e.message : String(e)}`);
  });
  return loading;
}

/** A .tflite model compiled by LiteRT.js on its wasm (XNNPACK) CPU path; call delete() when done. */
export async function compileTflite(bytes: Uint8Array): Promise<CompiledModel> {
  if (!loading) throw new PoeError('BACKEND_UNAVAILABLE', 'LiteRT.js is not started: call startLiteRt() first.');
  const liteRt = (await loading) as { loadAndCompile(m: Uint8Array, o: { accelerator: 'wasm' }): Promise<CompiledModel> };
  try {
    return await liteRt.loadAndCompile(bytes, { accelerator: 'wasm' });
  } catch (e) {
    throw new PoeError('MODEL_INVALID', `LiteRT.js could not load this .tflite model: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Logits of `count` uint8 NHWC images through a compiled one-input model, one image per call (the file's
 * batch is 1). The input is fed as float32 or uint8, whichever the model takes; the output must be float32.
 */
export async function tfliteLogits(model: CompiledModel, images: Uint8Array, count: number): Promise<Float32Array> {
  const [input] = model.getInputDetails();
  const shape = Array.from(input.shape);
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  if (images.length !== count * per) throw new PoeError('IMAGE_INVALID', `tfliteLogits got ${images.length} bytes for ${count} images of ${per} values.`);
  let out: Float32Array | undefined;
  for (let i = 0; i < count; i++) {
    const pixels = images.subarray(i * per, (i + 1) * per);
    const x = new Tensor(input.dtype === 'uint8' ? pixels.slice() : Float32Array.from(pixels), shape);
    const [y] = await model.run([x]);
    x.delete();
    const row = y.toTypedArray();
    y.delete();
    if (!(row instanceof Float32Array)) throw new PoeError('MODEL_INVALID', 'The .tflite model\'s output is not float32 logits.');
    out ??= new Float32Array(count * row.length);
    out.set(row, i * row.length);
  }
  return out ?? new Float32Array(0);
}
