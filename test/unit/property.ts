import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';

/**
 * fast-check with a seed you can always replay. Each property prints its seed before it starts, and a
 * watchdog thread stops the whole test process when one case runs past `caseLimitMs`, printing the
 * seed, the case's path and its input first. A synchronous case that never returns blocks the event
 * loop, so neither fast-check's time limits nor vitest's timeout could report it.
 *
 * Replay: FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run <file> -t "<test>"
 */
export interface PropertyOptions {
  numRuns: number;
  /** One case running longer than this stops the process (default 60 s). */
  caseLimitMs?: number;
  seed?: number;
}

const INPUT_BYTES = 2048;
// Shared with the watchdog: [0] the running case's start (ms since epoch, 0 when none), [1] its index, [2] input length.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Float64Array(workerData.buffer, 0, 3);
const input = new Uint8Array(workerData.buffer, 24);
setInterval(() => {
  const start = state[0];
  if (start > 0 && Date.now() - start > workerData.limitMs) {
    const text = new TextDecoder().decode(input.slice(0, state[2]));
    writeSync(2, '\\nproperty "' + workerData.name + '": case ' + state[1] + ' has run ' + Math.round((Date.now() - start) / 1000) + ' s, past its ' +
      workerData.limitMs / 1000 + ' s limit; stopping the process.\\n  input: ' + text + '\\n  replay: FUZZ_SEED=' + workerData.seed + ' FUZZ_PATH=' + (workerData.path ?? state[1]) + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 250);
`;

function watch(name: string, seed: number, limitMs: number, path: string | undefined) {
  const buffer = new SharedArrayBuffer(24 + INPUT_BYTES);
  const state = new Float64Array(buffer, 0, 3);
  const input = new Uint8Array(buffer, 24);
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { buffer, name, seed, limitMs, path } });
  worker.unref();
  let index = 0;
  return {
    start(value: unknown) {
      const text = new TextEncoder().encode(fc.stringify(value).slice(0, INPUT_BYTES / 4));
      input.set(text);
      state[1] = index++;
      state[2] = text.length;
      state[0] = Date.now();
    },
    end() { state[0] = 0; },
    stop: () => worker.terminate(),
  };
}

function settings(name: string, options: PropertyOptions) {
  const seed = Number(process.env.FUZZ_SEED ?? options.seed ?? (Date.now() ^ (Math.random() * 2 ** 31)) | 0);
  const path = process.env.FUZZ_PATH;
  writeSync(2, `property "${name}": seed ${seed}${path ? `, path ${path}` : ''}, ${options.numRuns} runs\n`);
  return { seed, path, limitMs: options.caseLimitMs ?? 60_000 };
}

export function assertProperty<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => boolean | void, options: PropertyOptions): void {
  const { seed, path, limitMs } = settings(name, options);
  const dog = watch(name, seed, limitMs, path);
  try {
    fc.assert(fc.property(arb, (v) => {
      dog.start(v);
      try {
        return predicate(v);
      } finally {
        dog.end();
      }
    }), { numRuns: options.numRuns, seed, path });
  } finally {
    void dog.stop();
  }
}

export async function assertAsyncProperty<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => Promise<boolean | void>, options: PropertyOptions): Promise<void> {
  const { seed, path, limitMs } = settings(name, options);
  const dog = watch(name, seed, limitMs, path);
  try {
    await fc.assert(fc.asyncProperty(arb, async (v) => {
      dog.start(v);
      try {
        return await predicate(v);
      } finally {
        dog.end();
      }
    }), { numRuns: options.numRuns, seed, path, timeout: limitMs });
  } finally {
    await dog.stop();
  }
}
