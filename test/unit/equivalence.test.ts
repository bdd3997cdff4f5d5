import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictLogits, argmaxRows } from '../../src/ml/run/predict';
import { checkAgainstReference, referenceColumns } from '../../src/ml/run/reference';
import { fetchPool } from '../../src/ml/pool/poolFetch';
import { folderSource } from '../../src/node/folderSource';
import { openPool, useNodeBackend, type Pool } from '../../src/node';
import { DEFAULT_POOL_DIR, FIXTURE_POOL_DIR, readReference } from './helpers';
import { loadedPool } from '../../src/ml/pool';


for (const [name, dir] of [['fixture pool (random weights, external state_dicts)', FIXTURE_POOL_DIR], ['built-in default pool', DEFAULT_POOL_DIR]].filter((x) => process.env.ONLY_FIXTURE !== '1' || x[1] === FIXTURE_POOL_DIR)) {
  describe(`PyTorch and TF.js agree on the ${name}`, () => {
    let pool: Pool;
    const ref = readReference(dir);
    beforeAll(async () => {
      await useNodeBackend('cpu');
      pool = await openPool(dir);
    });
    afterAll(() => pool.dispose());

    const queries = (p: Pool) => [
      p.manifest.experts.map((e) => e.name),
      [p.manifest.experts[p.manifest.experts.length - 1].name],
      [p.manifest.classes[0].name, p.manifest.classes[p.manifest.classes.length - 1].name, p.manifest.classes[3].name],
    ];

    it('gives logits within 1e-4 and the same top-1 for whole-expert and class-level queries', async () => {
      for (const q of queries(pool)) {
        const c = pool.consolidate(q);
        const got = await predictLogits(c.model, ref.images, ref.count, pool.manifest.input.sizePx);
        const want = Array.from(referenceColumns(ref, c.plan.parts));
        expect(got.length).toBe(want.length);
        let maxDiff = 0;
        want.forEach((w, i) => (maxDiff = Math.max(maxDiff, Math.abs(w - got[i]))));
        expect(maxDiff).toBeLessThan(1e-4);
        const k = c.labels.length;
        expect(Array.from(argmaxRows(got, k))).toEqual(Array.from(argmaxRows(Float32Array.from(want), k)));
        c.dispose();
      }
    });

    it('checkAgainstReference (what the app runs on each browser backend) reports the same agreement', async () => {
      const r = await checkAgainstReference(loadedPool(pool), ref);
      expect(r.images).toBe(ref.count);
      expect(r.maxAbsDiff).toBeLessThan(1e-4);
      expect(r.top1Agree).toBe(ref.count);
    });

    it('would catch the BatchNorm epsilon trap (TF.js default 1e-3 instead of PyTorch 1e-5)', async () => {
      const bundle = await fetchPool(folderSource(dir));
      const path = bundle.manifest.library.files.model.path;
      const text = new TextDecoder().decode(bundle.files.get(path)).replaceAll('"epsilon":1e-05', '"epsilon":0.001');
      const bytes = new TextEncoder().encode(text);
      bundle.files.set(path, bytes);
      // As an exporter with this bug would write it: a manifest that vouches for the wrong file.
      const manifest = JSON.parse(new TextDecoder().decode(bundle.files.get('pool.json')));
      manifest.library.files.model = { ...manifest.library.files.model, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
      bundle.files.set('pool.json', new TextEncoder().encode(JSON.stringify(manifest)));
      const wrong = await openPool(bundle);
      const c = wrong.consolidate(queries(wrong)[0]);
      const got = await predictLogits(c.model, ref.images, ref.count, wrong.manifest.input.sizePx);
      const want = Array.from(referenceColumns(ref, c.plan.parts));
      expect(Math.max(...want.map((w, i) => Math.abs(w - got[i])))).toBeGreaterThan(1e-4);
      c.dispose();
      wrong.dispose();
    });
  });
}
