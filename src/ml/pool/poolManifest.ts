import { POOL_FORMAT, POOL_FORMAT_VERSION } from '../constants';
import { PoeError } from '../errors';
import { MAX_CLASS_NAME_CHARS, MAX_POOL_CLASSES, MAX_POOL_EXPERTS, checkTotalBytes, limitError } from './poolLimits';

export interface PoolFile {
  path: string;
  bytes: number;
  sha256: string;
}
export interface PartFiles {
  model: PoolFile;
  weights: PoolFile;
}
export interface PoolClass {
  /** The oracle's class index (CIFAR-100 fine label). */
  index: number;
  name: string;
  /** Name of the expert (primitive task) that covers this class. */
  task: string;
}
export interface PoolExpert {
  name: string;
  /** Oracle class indices, in the order of the expert's logits. */
  classes: number[];
  params: number;
  width?: number;
  files: PartFiles;
}
/** What the pool's models take: sizePx x sizePx images, colour (RGB) or grey (L), uint8 NHWC, normalised by mean/std per channel. */
export interface PoolInput {
  sizePx: number;
  channels: 'RGB' | 'L';
  range: [number, number];
  layout: 'NHWC';
  mean: number[];
  std: number[];
}

/** Values per pixel of the pool's images: 3 for RGB, 1 for grey. */
export const channelCount = (input: Pick<PoolInput, 'channels'>): number => (input.channels === 'L' ? 1 : 3);
/** Size and values per pixel of a pool's images; CIFAR-100's 32 x 32 RGB before any pool is loaded. */
export const imageShape = (input?: Pick<PoolInput, 'channels' | 'sizePx'>): { size: number; channels: number } =>
  (input ? { size: input.sizePx, channels: channelCount(input) } : { size: 32, channels: 3 });
/** "32 x 32 RGB", "28 x 28 grey": how messages name one image of the pool. */
export const imageKind = (input: Pick<PoolInput, 'channels' | 'sizePx'>): string =>
  `${input.sizePx} x ${input.sizePx} ${input.channels === 'L' ? 'grey' : 'RGB'}`;

export interface PoolManifest {
  format: typeof POOL_FORMAT;
  formatVersion: number;
  name: string;
  version: string;
  input: PoolInput;
  classes: PoolClass[];
  library: { architecture?: string; params: number; outputShape: number[]; files: PartFiles };
  experts: PoolExpert[];
  reference?: PoolFile;
  provenance?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SAFE_PATH = /^(?!\/)(?!.*\.\.)[A-Za-z0-9._\-/]+$/;

function fail(msg: string): never {
  throw new PoeError('MANIFEST_INVALID', `Pool manifest is invalid: ${msg}.`);
}
function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(`${where} must be a non-empty string`);
  return v;
}
/** A class or expert name: shown in the page, so short and printable. */
function name(v: unknown, where: string): string {
  const s = str(v, where);
  if (s.length > MAX_CLASS_NAME_CHARS)
    throw limitError(`Pool manifest: ${where} is ${s.length} characters long; names up to ${MAX_CLASS_NAME_CHARS} are accepted.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) fail(`${where} ${JSON.stringify(s)} contains control characters`);
  return s;
}
function list(v: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0) fail(`"${where}" must be a non-empty list`);
  if (v.length > max) throw limitError(`Pool manifest: "${where}" has ${v.length} entries; pools with up to ${max} are accepted.`);
  return v;
}
function int(v: unknown, where: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`${where} must be an integer >= ${min}`);
  return v;
}
function nums(v: unknown, where: string, len: number): number[] {
  if (!Array.isArray(v) || v.length !== len || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    fail(`${where} must be a list of ${len} numbers`);
  return v as number[];
}
function file(v: unknown, where: string): PoolFile {
  const f = obj(v, where);
  const path = str(f.path, `${where}.path`);
  if (!SAFE_PATH.test(path)) fail(`${where}.path "${path}" must be a relative path inside the pool folder`);
  const sha256 = str(f.sha256, `${where}.sha256`);
  if (!HEX64.test(sha256)) fail(`${where}.sha256 must be 64 lowercase hex digits`);
  return { path, bytes: int(f.bytes, `${where}.bytes`, 1), sha256 };
}
function part(v: unknown, where: string): PartFiles {
  const f = obj(v, where);
  return { model: file(f.model, `${where}.model`), weights: file(f.weights, `${where}.weights`) };
}

/** Checks a parsed pool.json against format v1 and returns it typed; throws PoeError naming the first problem. */
export function validateManifest(raw: unknown): PoolManifest {
  const m = obj(raw, 'the manifest');
  if (m.format !== POOL_FORMAT) fail(`"format" is ${JSON.stringify(m.format)}, expected "${POOL_FORMAT}"`);
  const version = int(m.formatVersion, 'formatVersion', 1);
  if (version !== POOL_FORMAT_VERSION)
    throw new PoeError('MANIFEST_VERSION',
      `Pool format version ${version} is not supported: this app reads version ${POOL_FORMAT_VERSION}. Update PoE Studio or rebuild the pool.`);
  const input = obj(m.input, 'input');
  if (input.channels !== undefined && input.channels !== 'RGB' && input.channels !== 'L')
    fail(`input.channels is ${JSON.stringify(input.channels)}: expected "RGB" (colour) or "L" (grey)`);
  const channels = input.channels === 'L' ? 'L' : 'RGB';
  const sizePx = int(input.sizePx, 'input.sizePx', 1);
  const mean = nums(input.mean, 'input.mean', channelCount({ channels }));
  const std = nums(input.std, 'input.std', channelCount({ channels }));
  if (std.some((s) => s <= 0)) fail('input.std values must be positive');
  const classes = list(m.classes, 'classes', MAX_POOL_CLASSES).map((c, i) => {
    const o = obj(c, `classes[${i}]`);
    return { index: int(o.index, `classes[${i}].index`), name: name(o.name, `classes[${i}].name`), task: name(o.task, `classes[${i}].task`) };
  });
  const lib = obj(m.library, 'library');
  const outputShape = lib.outputShape;
  if (!Array.isArray(outputShape) || outputShape.length !== 3) fail('library.outputShape must be [height, width, channels]');
  const experts = list(m.experts, 'experts', MAX_POOL_EXPERTS).map((e, i) => {
    const o = obj(e, `experts[${i}]`);
    const expertName = name(o.name, `experts[${i}].name`);
    if (!Array.isArray(o.classes) || o.classes.length === 0) fail(`expert ${expertName} must list its classes`);
    return {
      name: expertName,
      classes: o.classes.map((c, j) => int(c, `experts[${i}].classes[${j}]`)),
      params: int(o.params, `experts[${i}].params`),
      width: o.width === undefined ? undefined : int(o.width, `experts[${i}].width`, 1),
      files: part(o.files, `experts[${i}].files`),
    };
  });
  checkCoverage(classes, experts);
  const manifest: PoolManifest = {
    format: POOL_FORMAT,
    formatVersion: version,
    name: str(m.name, 'name'),
    version: str(m.version, 'version'),
    input: { sizePx, channels, range: [0, 255], layout: 'NHWC', mean, std },
    classes,
    library: {
      architecture: typeof lib.architecture === 'string' ? lib.architecture : undefined,
      params: int(lib.params, 'library.params'),
      outputShape: (outputShape as unknown[]).map((d, i) => int(d, `library.outputShape[${i}]`, 1)),
      files: part(lib.files, 'library.files'),
    },
    experts,
    reference: m.reference === undefined ? undefined : file(m.reference, 'reference'),
    provenance: m.provenance === undefined ? undefined : obj(m.provenance, 'provenance'),
    metrics: m.metrics === undefined ? undefined : obj(m.metrics, 'metrics'),
  };
  checkTotalBytes(poolFiles(manifest).reduce((n, f) => n + f.bytes, 0), 'The pool its manifest describes');
  return manifest;
}

function checkCoverage(classes: PoolClass[], experts: PoolManifest['experts']): void {
  const byIndex = new Map<number, PoolClass>();
  const names = new Set<string>();
  for (const c of classes) {
    if (byIndex.has(c.index)) fail(`class index ${c.index} is listed twice`);
    if (names.has(c.name)) fail(`class name "${c.name}" is listed twice`);
    byIndex.set(c.index, c);
    names.add(c.name);
  }
  const expertNames = new Set<string>();
  const covered = new Set<number>();
  for (const e of experts) {
    if (expertNames.has(e.name)) fail(`expert "${e.name}" is listed twice`);
    if (names.has(e.name)) fail(`expert "${e.name}" has the same name as a class`);
    expertNames.add(e.name);
    for (const c of e.classes) {
      const cls = byIndex.get(c);
      if (!cls) fail(`expert "${e.name}" covers class index ${c}, which "classes" does not list`);
      if (cls.task !== e.name) fail(`class "${cls.name}" says task "${cls.task}" but expert "${e.name}" covers it`);
      if (covered.has(c)) fail(`class "${cls.name}" is covered by two experts`);
      covered.add(c);
    }
  }
  const orphan = classes.find((c) => !covered.has(c.index));
  if (orphan) fail(`class "${orphan.name}" is covered by no expert`);
}

/** Every file of the pool, in load order: library, experts, reference. */
export function poolFiles(m: PoolManifest): PoolFile[] {
  const parts = [m.library.files, ...m.experts.map((e) => e.files)];
  return [...parts.flatMap((p) => [p.model, p.weights]), ...(m.reference ? [m.reference] : [])];
}
