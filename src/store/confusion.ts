import type { Outcome } from './checkSlice';

/** Counts[truth][predicted], rows and columns in the order of `labels`. */
export function confusionMatrix(labels: string[], outcomes: Outcome[]): number[][] {
  const at = new Map(labels.map((l, i) => [l, i]));
  const m = labels.map(() => labels.map(() => 0));
  for (const o of outcomes) m[at.get(o.truth)!][at.get(o.predicted)!]++;
  return m;
}

export interface ClassAccuracy {
  label: string;
  correct: number;
  total: number;
}

/** Per-class accuracy, worst first (ties in label order), for selections too large for a matrix. */
export function classAccuracies(labels: string[], outcomes: Outcome[]): ClassAccuracy[] {
  const by = new Map(labels.map((label) => [label, { label, correct: 0, total: 0 }]));
  for (const o of outcomes) {
    const a = by.get(o.truth)!;
    a.total++;
    if (o.predicted === o.truth) a.correct++;
  }
  const rate = (a: ClassAccuracy) => (a.total ? a.correct / a.total : 1);
  return [...by.values()].sort((a, b) => rate(a) - rate(b));
}

/** The images behind a matrix cell (truth and predicted) or a class bar (truth only). */
export function outcomesOf(outcomes: Outcome[], truth: string, predicted?: string): Outcome[] {
  return outcomes.filter((o) => o.truth === truth && (predicted === undefined || o.predicted === predicted));
}
