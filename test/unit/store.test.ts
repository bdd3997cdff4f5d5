import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { validateManifest } from '../../src/ml/pool/poolManifest';
import { openPool, useNodeBackend } from '../../src/node';
import { appStore, createAppStore } from '../../src/store';
import { DEFAULT_POOL_DIR, FIXTURE_POOL_DIR, REPO_ROOT } from './helpers';

// Store logic through getState(), no rendering (zustand/vanilla).
const manifest = validateManifest(JSON.parse(readFileSync(path.join(DEFAULT_POOL_DIR, 'pool.json'), 'utf8')));
const s = () => appStore.getState();

beforeEach(() => appStore.setState({ manifest, selected: [] }));

describe('selection slice', () => {
  it('a superclass tick replaces its single classes, and unticking one class keeps its siblings', () => {
    s().toggleClass('boy', 'people');
    s().toggleClass('girl', 'people');
    expect(s().selected).toEqual(['boy', 'girl']);
    s().toggleName('people');
    expect(s().selected).toEqual(['people']);
    s().toggleClass('man', 'people');
    expect(s().selected.sort()).toEqual(['baby', 'boy', 'girl', 'woman']);
  });

  it('ticking the last missing class of a superclass selects the superclass', () => {
    for (const c of ['baby', 'boy', 'girl', 'man']) s().toggleClass(c, 'people');
    s().toggleClass('woman', 'people');
    expect(s().selected).toEqual(['people']);
  });

  it('select all and clear', () => {
    s().selectAll();
    expect(s().selected).toHaveLength(20);
    s().clearSelection();
    expect(s().selected).toEqual([]);
  });

  it('drops names the pool does not know (e.g. a selection persisted for another pool)', () => {
    appStore.setState({ selected: ['people', 'dragon', 'apple'] });
    s().dropUnknownSelection();
    expect(s().selected).toEqual(['people', 'apple']);
  });

  it('persists only the selections, pool id, backend and wasm-thread preferences and the "none of these" switch', () => {
    appStore.setState({ selected: ['trees'] });
    const saved = appStore.persist.getOptions().storage!.getItem('poe-studio') as { state: Record<string, unknown> };
    expect(Object.keys(saved.state).sort()).toEqual(['detectUnknown', 'poolId', 'preferredBackend', 'preferredWasmThreads', 'selected', 'selections']);
    expect(saved.state.selected).toEqual(['trees']);
  });
});

describe('store and engine', () => {
  it('keeps only serialisable state; each store owns its own pool and model', async () => {
    await useNodeBackend('wasm');
    const a = createAppStore('store-test-a');
    const b = createAppStore('store-test-b');
    a.setState({ selected: ['people', 'cup'] });
    await a.getState().installPool(await openPool(FIXTURE_POOL_DIR), { poolId: 'fixture' }, null);
    const sa = a.getState();
    expect(sa.poolStatus).toBe('ready');
    expect(sa.model?.labels).toEqual(['baby', 'boy', 'girl', 'man', 'woman', 'cup']);
    expect(sa.model?.bytes).toBeGreaterThan(4 * sa.model!.params); // float32 weights, normalisation included
    expect(b.getState().model).toBeNull();
    const data = Object.fromEntries(Object.entries(sa).filter(([, v]) => typeof v !== 'function'));
    expect(structuredClone(data)).toEqual(data);
    for (const v of Object.values(data)) if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) expect(Object.getPrototypeOf(v)).toBeOneOf([Object.prototype, Array.prototype]);
    await a.getState().checkDevice();
    expect(a.getState().deviceCheck).toMatchObject({ images: 24, backend: 'wasm' });
    expect(a.getState().deviceCheck!.maxAbsDiff).toBeLessThan(1e-4);
  });
});

describe('switching pools', () => {
  it('keeps a selection per pool: the one left is saved, the one returned to comes back', async () => {
    await useNodeBackend('wasm');
    const greyDir = path.join(REPO_ROOT, 'test', '.tmp', 'pool-grey-store');
    execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--kind', 'grey28', '--out', greyDir], { cwd: REPO_ROOT, stdio: 'ignore' });
    const s = createAppStore('store-test-switch');
    s.setState({ selected: ['people', 'cup'] });
    await s.getState().installPool(await openPool(FIXTURE_POOL_DIR), { poolId: 'fixture' }, null);
    expect(s.getState().model?.labels).toHaveLength(6);
    await s.getState().installPool(await openPool(greyDir), { poolId: 'grey' }, null);
    expect(s.getState().selected).toEqual([]);
    expect(s.getState().model).toBeNull();
    s.getState().toggleName('vehicles_1');
    await s.getState().buildModel();
    expect(s.getState().model?.labels).toEqual(['bicycle', 'bus', 'motorcycle', 'pickup_truck', 'train']);
    await s.getState().installPool(await openPool(FIXTURE_POOL_DIR), { poolId: 'fixture' }, null);
    expect(s.getState().selected).toEqual(['people', 'cup']);
    expect(s.getState().selections).toEqual({ fixture: ['people', 'cup'], 'pool-grey': ['vehicles_1'] });
  });
});
