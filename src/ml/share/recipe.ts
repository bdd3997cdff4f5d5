import { Inflate, deflateSync } from 'fflate';
import { fromBase64, fromBase64Url, toBase64, toBase64Url } from '../util/base64';
import { weightCount } from '../custom/customExpert';
import { PoeError } from '../errors';
import { float16Bits, float16Values } from '../util/float16';
import { sha256Hex } from '../util/sha256';

/**
 * A consolidated model's recipe: which pool, which names, the weights of the user's own classes and
 * the "none of these" threshold. Consolidation needs no training, so the recipe *is* the model; it
 * travels in a link's fragment (after #, never sent to a server) or in a project file.
 */
export interface Recipe {
  pool: RecipePool;
  selected: string[];
  custom: RecipeCustomClass[];
  /** null: the detector is off. */
  unknown: { threshold: number } | null;
}

export interface RecipePool {
  name: string;
  version: string;
  /** poolFingerprint() of the pool the recipe was made with. */
  fingerprint: string;
  /** The built-in pool's id, or the http(s) folder it was opened from; neither for a zip or folder. */
  builtin?: string;
  url?: string;
}

export interface RecipeCustomClass {
  id: string;
  label: string;
  hidden: number;
  featureShape: number[];
  /** float16 values (links and project files carry halves). */
  weights: Float32Array;
  /** Training images (project files only, when the user keeps them): NHWC uint8 of the pool's input size. */
  images?: Uint8Array;
}

export const RECIPE_FORMAT_VERSION = 1;
export const LINK_PREFIX = '#model=';
export const PROJECT_FORMAT = 'poe-project';
/** What a link may hold: far above 50 custom classes, far below what a browser's address bar refuses. */
const MAX_LINK_CHARS = 400_000;
const MAX_PAYLOAD_BYTES = 1 << 20;
const LIMITS = { names: 2000, nameChars: 200, custom: 64, hidden: 1024, featureDim: 4096 };

const invalid = (what: string, why: string): never => {
  throw new PoeError('RECIPE_INVALID', `${what} ${why}. Nothing was changed.`);
};

/** Checks a parsed recipe's fields; `what` names the carrier ("This link", "This project file"). */
function checkRecipe(raw: unknown, weights: (c: Record<string, unknown>, i: number, count: number) => Float32Array, what: string): Recipe {
  const r = raw as Record<string, unknown>;
  if (!r || typeof r !== 'object') return invalid(what, 'holds no recipe');
  const pool = r.pool as Record<string, unknown>;
  const str = (v: unknown, field: string, max = LIMITS.nameChars) => {
    if (typeof v !== 'string' || !v || v.length > max) invalid(what, `has no valid ${field}`);
    return v as string;
  };
  if (!pool || typeof pool !== 'object') invalid(what, 'names no pool');
  const out: RecipePool = { name: str(pool.name, 'pool name'), version: str(pool.version, 'pool version'), fingerprint: str(pool.fingerprint, 'pool fingerprint') };
  if (!/^[0-9a-f]{16}$/.test(out.fingerprint)) invalid(what, 'has a malformed pool fingerprint');
  if (pool.builtin !== undefined) out.builtin = str(pool.builtin, 'built-in pool id');
  if (pool.url !== undefined) out.url = str(pool.url, 'pool address', 2000);
  const selected = r.selected;
  if (!Array.isArray(selected) || selected.length > LIMITS.names) invalid(what, 'has no valid list of classes');
  (selected as unknown[]).forEach((n) => str(n, 'class name'));
  const custom = Array.isArray(r.custom) ? (r.custom as Record<string, unknown>[]) : invalid(what, 'has no list of custom classes');
  if (custom.length > LIMITS.custom) invalid(what, `has ${custom.length} custom classes (at most ${LIMITS.custom})`);
  const classes = custom.map((c, i) => {
    if (!c || typeof c !== 'object') invalid(what, `has a damaged custom class ${i + 1}`);
    const shape = c.featureShape as number[];
    if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1 || d > LIMITS.featureDim)) invalid(what, `gives custom class ${i + 1} no feature shape`);
    const hidden = c.hidden as number;
    if (!Number.isInteger(hidden) || hidden < 1 || hidden > LIMITS.hidden) invalid(what, `gives custom class ${i + 1} no hidden width`);
    const id = str(c.id, `id for custom class ${i + 1}`, 64);
    if (!/^custom_[a-z0-9]+$/.test(id)) invalid(what, `gives custom class ${i + 1} a malformed id`);
    return { id, label: str(c.label, `name for custom class ${i + 1}`, 100), hidden, featureShape: shape, weights: weights(c, i, weightCount(shape[2], hidden)) };
  });
  for (const n of selected as string[])
    if (n.startsWith('custom_') && !classes.some((c) => c.id === n)) invalid(what, `selects a custom class it does not carry (${n})`);
  let unknown: Recipe['unknown'] = null;
  if (r.unknown !== null && r.unknown !== undefined) {
    const t = (r.unknown as { threshold?: unknown }).threshold;
    if (typeof t !== 'number' || !(t >= 0 && t <= 1)) invalid(what, 'has a "none of these" threshold outside 0..1');
    unknown = { threshold: t as number };
  }
  return { pool: out, selected: selected as string[], custom: classes, unknown };
}

const halves = (c: RecipeCustomClass) => new Uint8Array(float16Bits(c.weights).buffer);

/** The JSON part of a recipe; custom weights go separately (binary in links, base64 in files). */
const recipeJson = (r: Recipe) => ({
  pool: r.pool,
  selected: r.selected,
  custom: r.custom.map(({ id, label, hidden, featureShape }) => ({ id, label, hidden, featureShape })),
  unknown: r.unknown,
});

/**
 * The fragment of a link: "#model=1." then base64url of deflate([4 bytes of SHA-256 of the body][body]),
 * body = [u32 JSON length][JSON][every custom class's weights as float16, in order].
 */
export async function recipeFragment(recipe: Recipe): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(recipeJson(recipe)));
  const blobs = recipe.custom.map(halves);
  const body = new Uint8Array(4 + json.length + blobs.reduce((n, b) => n + b.length, 0));
  new DataView(body.buffer).setUint32(0, json.length, true);
  body.set(json, 4);
  let at = 4 + json.length;
  for (const b of blobs) { body.set(b, at); at += b.length; }
  const check = new Uint8Array(4 + body.length);
  check.set(fromHex((await sha256Hex(body)).slice(0, 8)));
  check.set(body, 4);
  return `${LINK_PREFIX}${RECIPE_FORMAT_VERSION}.${toBase64Url(deflateSync(check, { level: 9 }))}`;
}

const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));

/** Inflates at most MAX_PAYLOAD_BYTES: a small fragment cannot expand into gigabytes. */
function inflateCapped(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > MAX_PAYLOAD_BYTES) throw new PoeError('RECIPE_INVALID', 'The recipe inflates past 1 MB.');
    parts.push(chunk);
    done ||= final;
  });
  inflater.push(bytes, true);
  if (!done) throw new PoeError('RECIPE_INVALID', 'The recipe is cut short.');
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Whether a URL fragment (location.hash) is a shared model's. */
export const isRecipeFragment = (hash: string) => hash.startsWith(LINK_PREFIX);

/** Reads a link's fragment; every way it can be damaged, altered, cut short or too new gets a coded error. */
export async function parseRecipeFragment(hash: string): Promise<Recipe> {
  const what = 'This link';
  if (!isRecipeFragment(hash)) invalid(what, `is not a shared model (its part after # does not start with "${LINK_PREFIX.slice(1)}")`);
  if (hash.length > MAX_LINK_CHARS) invalid(what, `is ${hash.length.toLocaleString('en-US')} characters long, more than a shared model ever is`);
  const rest = hash.slice(LINK_PREFIX.length);
  const dot = rest.indexOf('.');
  const version = dot > 0 ? rest.slice(0, dot) : '';
  if (!/^\d+$/.test(version)) invalid(what, 'is damaged: it has no format version');
  if (Number(version) !== RECIPE_FORMAT_VERSION)
    throw new PoeError('RECIPE_VERSION', `This link was made by ${Number(version) > RECIPE_FORMAT_VERSION ? 'a newer' : 'an older'} PoE Studio (link format ${version}); this one reads format ${RECIPE_FORMAT_VERSION}. ${Number(version) > RECIPE_FORMAT_VERSION ? 'Reload the page to get the newest version. ' : ''}Nothing was changed.`);
  let packed: Uint8Array;
  try {
    packed = inflateCapped(fromBase64Url(rest.slice(dot + 1)));
  } catch {
    return invalid(what, 'is damaged or cut short: copy it again in full');
  }
  if (packed.length < 8) invalid(what, 'is cut short: copy it again in full');
  const body = packed.subarray(4);
  if ((await sha256Hex(body)).slice(0, 8) !== Array.from(packed.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(''))
    invalid(what, 'was altered after it was made (its checksum does not match)');
  const jsonLength = new DataView(body.buffer, body.byteOffset).getUint32(0, true);
  if (4 + jsonLength > body.length) invalid(what, 'is cut short: copy it again in full');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(4, 4 + jsonLength)));
  } catch {
    return invalid(what, 'is damaged: its recipe is not readable');
  }
  let at = 4 + jsonLength;
  const recipe = checkRecipe(raw, (_c, i, count) => {
    if (at + count * 2 > body.length) invalid(what, `is cut short: custom class ${i + 1}'s weights are incomplete`);
    const bits = new Uint16Array(body.slice(at, at + count * 2).buffer);
    at += count * 2;
    return checkedWeights(float16Values(bits), what, i);
  }, what);
  if (at !== body.length) invalid(what, 'carries bytes that belong to no class');
  return recipe;
}

function checkedWeights(w: Float32Array, what: string, i: number): Float32Array {
  if (w.some((v) => !Number.isFinite(v))) invalid(what, `gives custom class ${i + 1} weights that are not finite numbers`);
  return w;
}

/** A project file: the recipe as readable JSON, and the custom classes' training images when `withImages`. */
export function projectFile(recipe: Recipe, withImages: boolean): string {
  return JSON.stringify({
    format: PROJECT_FORMAT,
    formatVersion: RECIPE_FORMAT_VERSION,
    savedAt: new Date().toISOString(),
    ...recipeJson(recipe),
    custom: recipe.custom.map((c) => ({
      id: c.id, label: c.label, hidden: c.hidden, featureShape: c.featureShape,
      weights: toBase64(halves(c)),
      ...(withImages && c.images?.length ? { images: toBase64(c.images) } : {}),
    })),
  }, null, 1);
}

/** Reads a project file, with the same checks as a link. */
export function parseProjectFile(text: string): Recipe {
  const what = 'This project file';
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    return invalid(what, 'is not JSON (it is damaged, or not a PoE Studio project)');
  }
  if (raw?.format !== PROJECT_FORMAT) invalid(what, `is not a PoE Studio project (its format is "${String(raw?.format).slice(0, 40)}")`);
  if (raw.formatVersion !== RECIPE_FORMAT_VERSION)
    throw new PoeError('RECIPE_VERSION', `This project file has format ${String(raw.formatVersion).slice(0, 10)}; this PoE Studio reads format ${RECIPE_FORMAT_VERSION}. Nothing was changed.`);
  const images = new Map<number, Uint8Array>();
  const recipe = checkRecipe(raw, (c, i, count) => {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(String(c.weights));
      if (c.images !== undefined) images.set(i, fromBase64(String(c.images)));
    } catch {
      return invalid(what, `has damaged data for custom class ${i + 1}`);
    }
    if (bytes.length !== count * 2) invalid(what, `gives custom class ${i + 1} ${Math.floor(bytes.length / 2)} weights; ${count} expected`);
    return checkedWeights(float16Values(new Uint16Array(bytes.slice().buffer)), what, i);
  }, what);
  recipe.custom.forEach((c, i) => images.has(i) && (c.images = images.get(i)));
  return recipe;
}
