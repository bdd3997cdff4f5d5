import { PoeError } from '../errors';
import type { PoolManifest } from '../pool/poolManifest';

/** Which experts a query uses and which of each expert's logits it keeps. */
export interface QueryPlan {
  parts: { expert: string; keep: number[]; whole: boolean; custom?: boolean }[];
  /** Class names in the consolidated model's output order. */
  labels: string[];
  /** Oracle class indices in output order; -1 for a custom (user-trained) class. */
  classIndices: number[];
}

/**
 * Resolves names of whole primitive tasks (experts) and/or single classes into a plan.
 * Experts appear in pool order and classes in each expert's logit order, whatever the order of names.
 */
export function planQuery(manifest: PoolManifest, names: readonly string[], custom: readonly CustomClass[] = []): QueryPlan {
  const all = names.map((n) => n.trim()).filter((n) => n.length > 0);
  const customById = new Map(custom.map((c) => [c.id, c]));
  const wantedCustom = custom.filter((c) => all.includes(c.id));
  const wanted = all.filter((n) => !customById.has(n));
  if (all.length > 0 && wanted.length === 0) return withCustom({ parts: [], labels: [], classIndices: [] }, wantedCustom);
  if (wanted.length === 0)
    throw new PoeError('SELECTION_EMPTY', 'Nothing is selected: pick at least one class or superclass.');
  const experts = new Set(manifest.experts.map((e) => e.name));
  const classByName = new Map(manifest.classes.map((c) => [c.name, c]));
  const unknown = wanted.filter((n) => !experts.has(n) && !classByName.has(n));
  if (unknown.length)
    throw new PoeError('SELECTION_UNKNOWN',
      `Unknown class or superclass ${unknown.map((u) => `"${u}"`).join(', ')} in pool "${manifest.name}"` +
        (suggest(unknown[0], [...experts, ...classByName.keys()]) ?? '.'));
  const chosen = new Set<number>();
  for (const n of wanted) {
    const cls = classByName.get(n);
    if (cls) chosen.add(cls.index);
    else manifest.experts.find((e) => e.name === n)!.classes.forEach((c) => chosen.add(c));
  }
  const nameOf = new Map(manifest.classes.map((c) => [c.index, c.name]));
  const plan: QueryPlan = { parts: [], labels: [], classIndices: [] };
  for (const e of manifest.experts) {
    const keep = e.classes.map((c, i) => (chosen.has(c) ? i : -1)).filter((i) => i >= 0);
    if (!keep.length) continue;
    plan.parts.push({ expert: e.name, keep, whole: keep.length === e.classes.length });
    for (const i of keep) {
      plan.classIndices.push(e.classes[i]);
      plan.labels.push(nameOf.get(e.classes[i])!);
    }
  }
  return withCustom(plan, wantedCustom);
}

/** A user-trained class: its expert id (the name a selection uses) and its label. */
export interface CustomClass {
  id: string;
  label: string;
}

/** Custom experts come after the pool's, in the order given: one logit each. */
function withCustom(plan: QueryPlan, custom: readonly CustomClass[]): QueryPlan {
  for (const c of custom) {
    plan.parts.push({ expert: c.id, keep: [0], whole: true, custom: true });
    plan.labels.push(c.label);
    plan.classIndices.push(-1);
  }
  return plan;
}

function suggest(name: string, options: string[]): string | undefined {
  const lower = name.toLowerCase();
  const hit = options.find((o) => o.toLowerCase() === lower) ??
    options.find((o) => o.toLowerCase().includes(lower) || lower.includes(o.toLowerCase()));
  return hit ? `; did you mean "${hit}"?` : undefined;
}
