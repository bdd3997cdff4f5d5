// int8 against float32 on the CIFAR-100 test split, as issue #41 measures it: every 2-superclass query of the six
// superclasses the authors released, and a 10-class class-level query. The .tflite files run in LiteRT.js; int8
// calibrates on the pool's sample images, which are left out of the test images (npm run evaluate -- --format tflite).
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { poolCalibration, type PoolCalibration } from '../../cli/lib/calibration';
import { dataDir } from '../../cli/lib/cifar';
import { readTestSet } from '../../cli/lib/testSet';
import { evaluateTflite, withoutCalibrationImages, type LabelledImages } from '../../cli/lib/tfliteEval';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { DEFAULT_POOL_DIR } from '../unit/helpers';

const SIX = ['large_omnivores_and_herbivores', 'medium_mammals', 'people', 'small_mammals', 'vehicles_1', 'vehicles_2'];
const PAIRS = SIX.flatMap((a, i) => SIX.slice(i + 1).map((b) => [a, b]));
const TEN_CLASSES = ['apple', 'bus', 'girl', 'maple', 'rocket', 'shark', 'tulip', 'lamp', 'bee', 'castle'];

let pool: Pool;
let test: LabelledImages;
let cal: PoolCalibration;
beforeAll(async () => {
  await useNodeBackend('wasm');
  pool = await openPool(DEFAULT_POOL_DIR);
  const set = readTestSet(dataDir(undefined), pool.manifest);
  const index = new Map(pool.manifest.classes.map((c) => [c.name, c.index]));
  cal = await poolCalibration(DEFAULT_POOL_DIR);
  test = withoutCalibrationImages({ images: set.images, labels: set.labels.map((l) => index.get(l)!) }, cal);
});
afterAll(() => pool.dispose());

describe('int8 .tflite on the CIFAR-100 test split (built-in pool, LiteRT.js)', () => {
  it('leaves the 2,000 calibration images out of the 10,000 test images', () => {
    expect([test.labels.length, cal.count]).toEqual([8000, 2000]);
  });

  for (const query of [...PAIRS, TEN_CLASSES]) {
    it(`[${query.join(', ')}]: int8 top-1 within 1.0 point of float32`, async () => {
      const r = await evaluateTflite(pool, test, query, ['int8'], cal);
      const [int8] = r.tflite;
      console.log(`tflite int8 [${query.join(', ')}] ${r.images} images: float32 ${(100 * r.tfjsTop1).toFixed(2)} %, int8 ${(100 * int8.top1).toFixed(2)} % (drop ${int8.dropPoints.toFixed(2)})`);
      expect(r.images).toBe(800); // 100 test images a class, less the 20 of the sample
      expect(int8.dropPoints).toBeLessThanOrEqual(1.0 + 1e-9);
    });
  }
});
