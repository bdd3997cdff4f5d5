import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkModelJson } from '../../src/ml/pool/poolContents';
import { validateManifest } from '../../src/ml/pool/poolManifest';
import { openPool, useNodeBackend } from '../../src/node';
import { FIXTURE_POOL_DIR } from './helpers';
import { loadedPool } from '../../src/ml/pool';

let dir: string;
const manifestPath = () => path.join(dir, 'pool.json');
const readManifest = () => JSON.parse(readFileSync(manifestPath(), 'utf8'));
const writeManifest = (m: unknown) => writeFileSync(manifestPath(), JSON.stringify(m));

beforeAll(() => useNodeBackend('cpu'));
function copyFixture() {
  dir = mkdtempSync(path.join(os.tmpdir(), 'poe-pool-'));
  cpSync(FIXTURE_POOL_DIR, dir, { recursive: true });
}
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Rewrites the people expert's input layer and records the new model.json in pool.json, as a pool's author would. */
function setPeopleInputShape(batchInputShape: (number | null)[]): void {
  const m = readManifest();
  const people = m.experts.find((e: { name: string }) => e.name === 'people');
  const file = path.join(dir, people.files.model.path);
  const modelJson = JSON.parse(readFileSync(file, 'utf8'));
  modelJson.modelTopology.config.layers[0].config.batch_input_shape = batchInputShape;
  const bytes = Buffer.from(JSON.stringify(modelJson));
  writeFileSync(file, bytes);
  people.files.model.bytes = bytes.byteLength;
  people.files.model.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeManifest(m);
}

async function loadError(): Promise<{ code: string; message: string }> {
  try {
    (await openPool(dir, { warmUp: false })).dispose();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('the pool loaded, but it should have been rejected');
}

describe('pool loading rejects bad pools with a specific message', () => {
  it('loads the intact fixture', async () => {
    copyFixture();
    const pool = await openPool(dir, { warmUp: false });
    expect(loadedPool(pool).experts.size).toBe(3);
    expect(pool.manifest.classes).toHaveLength(13);
    pool.dispose();
  });

  it('an expert named in free text ("kitchen things / more") consolidates and predicts', async () => {
    copyFixture();
    const m = readManifest();
    const rename = (n: string) => (n === 'kitchen' ? 'kitchen things / more' : n);
    const refPath = path.join(dir, m.reference.path);
    const ref = JSON.parse(readFileSync(refPath, 'utf8'));
    ref.logits = Object.fromEntries(Object.entries(ref.logits).map(([k, v]) => [rename(k), v]));
    const refBytes = Buffer.from(JSON.stringify(ref));
    writeFileSync(refPath, refBytes);
    writeManifest({ ...m, experts: m.experts.map((e: { name: string }) => ({ ...e, name: rename(e.name) })),
      classes: m.classes.map((c: { task: string }) => ({ ...c, task: rename(c.task) })),
      reference: { ...m.reference, bytes: refBytes.length, sha256: createHash('sha256').update(refBytes).digest('hex') } });
    const pool = await openPool(dir, { warmUp: false });
    const model = pool.consolidate(['kitchen things / more', 'people']);
    expect([...model.labels].sort()).toEqual(['baby', 'bowl', 'boy', 'cup', 'girl', 'man', 'plate', 'woman']);
    const logits = await model.predictLogits(new Uint8Array(2 * 32 * 32 * 3).fill(128));
    expect(logits).toHaveLength(16);
    expect([...logits].every(Number.isFinite)).toBe(true);
    model.dispose();
    pool.dispose();
  });

  it('a truncated weight file', async () => {
    copyFixture();
    truncateSync(path.join(dir, 'experts/people/weights.bin'), 1000);
    const e = await loadError();
    expect(e.code).toBe('FILE_SIZE');
    expect(e.message).toContain('experts/people/weights.bin');
    expect(e.message).toContain('truncated');
  });

  it('a checksum mismatch (same size, one byte changed)', async () => {
    copyFixture();
    const p = path.join(dir, 'library/weights.bin');
    const b = readFileSync(p);
    b[100] ^= 0xff;
    writeFileSync(p, b);
    const e = await loadError();
    expect(e.code).toBe('FILE_CHECKSUM');
    expect(e.message).toContain('library/weights.bin');
  });

  it('a manifest that is not JSON', async () => {
    copyFixture();
    writeFileSync(manifestPath(), '{"format": "poe-pool", ');
    const e = await loadError();
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toMatch(/not valid JSON/);
  });

  it('an unknown format version', async () => {
    copyFixture();
    writeManifest({ ...readManifest(), formatVersion: 7 });
    const e = await loadError();
    expect(e.code).toBe('MANIFEST_VERSION');
    expect(e.message).toContain('version 7');
  });

  it('a colour pool whose manifest says grey (input.channels "L"): its files do not fit, and the message says how', async () => {
    copyFixture();
    const m = readManifest();
    writeManifest({ ...m, input: { ...m.input, channels: 'L', mean: [0.5], std: [0.25] } });
    const e = await loadError();
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toContain('have shape [24,32,32,3]; expected [count, 32, 32, 1]');
    const { reference, ...noReference } = readManifest();
    expect(reference).toBeDefined();
    writeManifest(noReference);
    const e2 = await loadError();
    expect(e2.code).toBe('SHAPE_MISMATCH');
    expect(e2.message).toContain('library takes input [32,32,3], but the manifest says [32,32,1]');
  });

  it('channels other than RGB or L, and a mean of the wrong length, are refused by name', async () => {
    copyFixture();
    const m = readManifest();
    writeManifest({ ...m, input: { ...m.input, channels: 'CMYK' } });
    expect((await loadError()).message).toContain('input.channels is "CMYK": expected "RGB" (colour) or "L" (grey)');
    writeManifest({ ...m, input: { ...m.input, channels: 'L' } });
    expect((await loadError()).message).toContain('input.mean must be a list of 1 numbers');
  });

  it('a manifest naming a missing file', async () => {
    copyFixture();
    rmSync(path.join(dir, 'experts/kitchen/model.json'));
    const e = await loadError();
    expect(e.code).toBe('FILE_MISSING');
    expect(e.message).toContain('experts/kitchen/model.json');
  });

  // The fixture's experts take the library's [16, 16, 32] features.
  it('an expert whose layers do not fit its own weights (64 input channels, weights for 32)', async () => {
    copyFixture();
    setPeopleInputShape([null, 16, 16, 64]);
    const e = await loadError();
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('expert "people" (experts/people/model.json) could not be loaded by TensorFlow.js');
  });

  it('an expert that is valid on its own but built for another library (8 x 8 input)', async () => {
    copyFixture();
    setPeopleInputShape([null, 8, 8, 32]);
    const e = await loadError();
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe('Expert "people" takes input [8,8,32], but the library outputs [16,16,32]: it was not built for this library.');
  });

  it('a manifest whose input size is not the library\'s', async () => {
    copyFixture();
    // Without reference images, whose shape would be refused first (MANIFEST_INVALID).
    writeManifest({ ...readManifest(), input: { ...readManifest().input, sizePx: 64 }, reference: undefined });
    const e = await loadError();
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe('The library takes input [32,32,3], but the manifest says [64,64,3].');
  });

  it('an expert with more logits than the manifest gives it classes', async () => {
    copyFixture();
    const m = readManifest();
    const people = m.experts.find((e: { name: string }) => e.name === 'people');
    const dropped = people.classes.pop();
    m.classes = m.classes.filter((c: { index: number }) => c.index !== dropped);
    delete m.reference; // its logits would be refused first (MANIFEST_INVALID)
    writeManifest(m);
    const e = await loadError();
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe('Expert "people" outputs 5 logits but the manifest gives it 4 classes.');
  });

  it('a path escaping the pool folder', () => {
    copyFixture();
    const m = readManifest();
    m.library.files.model.path = '../../etc/passwd';
    expect(() => validateManifest(m)).toThrow(/relative path inside the pool folder/);
  });

  it('a class covered by two experts, and a missing field', () => {
    copyFixture();
    const m = readManifest();
    m.experts[1].classes = [...m.experts[1].classes, m.experts[0].classes[0]];
    expect(() => validateManifest(m)).toThrow(/says task|covered by two/);
    const m2 = readManifest();
    delete m2.input;
    expect(() => validateManifest(m2)).toThrow(/input must be an object/);
  });
});

// TF.js's fromConfig loops forever on these (a frozen page), so they must be refused before it sees them.
describe('a model.json whose layer graph TF.js could not build', () => {
  type Layer = { name: string; class_name: string; inbound_nodes: [string, number, number, object][][] };
  const part = { model: { path: 'experts/kitchen/model.json', bytes: 1, sha256: '' }, weights: { path: 'experts/kitchen/weights.bin', bytes: 1, sha256: '' } };
  const read = (p: string) => new Uint8Array(readFileSync(path.join(FIXTURE_POOL_DIR, p)));
  const check = (edit: (layers: Layer[], config: Record<string, unknown>) => void) => {
    const model = JSON.parse(new TextDecoder().decode(read(part.model.path)));
    edit(model.modelTopology.config.layers, model.modelTopology.config);
    return () => checkModelJson(new TextEncoder().encode(JSON.stringify(model)), read(part.weights.path), part, 'expert "kitchen"');
  };
  const where = 'The expert "kitchen" (experts/kitchen/model.json) ';

  it('accepts the fixture as exported', () => {
    expect(check(() => {})().weightSpecs.length).toBeGreaterThan(0);
  });

  it.each([
    ['an inbound call its layer does not have', (l: Layer[]) => { l[2].inbound_nodes[0][0][1] = 1; },
      'refers in layer "block3_0_relu1" to output 0 of call 1 of layer "block3_0_bn1", which it does not have.'],
    ['a layer fed by a later one (a cycle)', (l: Layer[]) => { l[1].inbound_nodes[0][0][0] = l[3].name; },
      'has a cycle in its layer graph (through layer "block3_0_bn1").'],
    ['a layer fed by itself', (l: Layer[]) => { l[2].inbound_nodes[0][0][0] = l[2].name; },
      'has a cycle in its layer graph (through layer "block3_0_relu1").'],
    ['a layer fed by one that does not exist', (l: Layer[]) => { l[2].inbound_nodes[0][0][0] = 'nope'; },
      'refers in layer "block3_0_relu1" to a layer "nope" it does not have.'],
    ['two layers of one name', (l: Layer[]) => { l.push(structuredClone(l[0])); }, 'has two layers named "input".'],
    ['an output that does not exist', (_: Layer[], c: Record<string, unknown>) => { c.output_layers = [['fc', 0, 1]]; },
      'refers in output_layers to output 1 of call 0 of layer "fc", which it does not have.'],
  ])('refuses %s', (_, edit, message) => {
    expect(check(edit)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID', message: where + message }));
  });
});
