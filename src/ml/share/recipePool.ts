import type { CustomExpertSpec } from '../custom/customExpert';
import { isCustomName } from '../custom/customExpert';
import type { StoredCustomClass } from '../custom/customFile';
import { imageShape, type PoolManifest } from '../pool/poolManifest';
import type { Recipe, RecipePool } from './recipe';
import { PoeError } from '../errors';

/** The recipe of the model built from `selected` on a pool; custom classes come with their images when given. */
export function makeRecipe(
  pool: RecipePool,
  selected: readonly string[],
  custom: ReadonlyMap<string, { spec: CustomExpertSpec; images?: Uint8Array }>,
  threshold: number | null,
): Recipe {
  return {
    pool,
    selected: [...selected],
    custom: selected.filter(isCustomName).map((id) => {
      const c = custom.get(id);
      if (!c) throw new PoeError('SELECTION_UNKNOWN', `Custom class ${id} is selected but not in the pool.`);
      const { label, hidden, featureShape, weights } = c.spec;
      return { id, label, hidden, featureShape, weights, ...(c.images ? { images: c.images } : {}) };
    }),
    unknown: threshold === null ? null : { threshold },
  };
}

export interface RecipeMismatch {
  /** One or two sentences for the user: what the recipe needs and what differs. */
  message: string;
  /** Same pool name: the model can still be built from this pool's version (not exactly the shared one). */
  sameName: boolean;
  /** Names the recipe selects that this pool lacks (custom classes aside). */
  missing: string[];
}

/** Why a recipe cannot be built exactly from this pool; null when it can. */
export function recipeMismatch(recipe: Recipe, manifest: PoolManifest, fingerprint: string): RecipeMismatch | null {
  const p = recipe.pool;
  if (p.name === manifest.name && p.fingerprint === fingerprint) return null;
  const names = new Set([...manifest.experts.map((e) => e.name), ...manifest.classes.map((c) => c.name)]);
  const missing = recipe.selected.filter((n) => !isCustomName(n) && !names.has(n));
  const made = `This model was made with the pool "${p.name}" v${p.version}`;
  if (p.name !== manifest.name) {
    const where = p.builtin ? ` (built-in pool "${p.builtin}")` : p.url ? ` at ${p.url}` : '';
    return {
      sameName: false, missing,
      message: `${made}${where}; the pool in use is "${manifest.name}". Open that pool (pick it above, or open its zip or folder) and the shared model is built from it.`,
    };
  }
  const what = p.version === manifest.version
    ? `the pool in use has the same name and version but different contents (fingerprint ${fingerprint}, the link's ${p.fingerprint})`
    : `the pool in use is v${manifest.version}, whose weights differ (fingerprint ${fingerprint}, the link's ${p.fingerprint})`;
  const lacks = missing.length ? `, and it lacks ${missing.slice(0, 5).map((n) => `"${n}"`).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}` : '';
  return { sameName: true, missing, message: `${made}; ${what}${lacks}. Its predictions would not be the same.` };
}

/** The recipe's custom classes as the pool stores them; images (project files) must fit the pool's input. */
export function recipeCustomClasses(recipe: Recipe, manifest: PoolManifest): StoredCustomClass[] {
  const { size, channels } = imageShape(manifest.input);
  const per = size * size * channels;
  return recipe.custom.map((c) => {
    const images = c.images && c.images.length % per === 0 ? c.images : new Uint8Array(0);
    const spec: CustomExpertSpec = {
      id: c.id, label: c.label, hidden: c.hidden, featureShape: c.featureShape, weights: c.weights,
      pool: { name: manifest.name, version: manifest.version },
      shots: images.length / per, calibration: 'joint', trainMs: 0, createdAt: new Date().toISOString(),
    };
    return { spec, images };
  });
}
