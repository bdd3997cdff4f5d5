import * as tf from '@tensorflow/tfjs';

export interface MemoryStats {
  tensors: number;
  bytes: number;
}

/** Tensors and bytes the active TF.js backend holds: constant while the app runs steadily. */
export function memoryStats(): MemoryStats {
  const m = tf.memory();
  return { tensors: m.numTensors, bytes: m.numBytes };
}
