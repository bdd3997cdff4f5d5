import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planQuery } from '../../src/ml/graph/selection';
import { validateManifest } from '../../src/ml/pool/poolManifest';
import { FIXTURE_POOL_DIR } from './helpers';

const manifest = validateManifest(JSON.parse(readFileSync(path.join(FIXTURE_POOL_DIR, 'pool.json'), 'utf8')));

describe('planQuery', () => {
  it('keeps pool order of experts and logit order of classes, whatever the order of names', () => {
    const plan = planQuery(manifest, ['cup', 'people', 'bus']);
    expect(plan.parts.map((p) => p.expert)).toEqual(['people', 'vehicles_1', 'kitchen']);
    expect(plan.parts.map((p) => p.whole)).toEqual([true, false, false]);
    expect(plan.labels).toEqual(['baby', 'boy', 'girl', 'man', 'woman', 'bus', 'cup']);
  });

  it('mixes a whole task with one of its own classes without duplicates', () => {
    const plan = planQuery(manifest, ['boy', 'people']);
    expect(plan.labels).toHaveLength(5);
    expect(plan.parts).toHaveLength(1);
  });

  it('rejects an empty selection', () => {
    expect(() => planQuery(manifest, [])).toThrow(/Nothing is selected/);
    expect(() => planQuery(manifest, [' ', ''])).toThrow(expect.objectContaining({ code: 'SELECTION_EMPTY' }));
  });

  it('names unknown classes and suggests a near match', () => {
    expect(() => planQuery(manifest, ['people', 'Bus', 'dragon'])).toThrow(/Unknown class or superclass "Bus", "dragon".*did you mean "bus"/);
  });
});
