/** One picture per class for the class picker: a sprite sheet made from the built-in sample (scripts/make-class-thumbs.ts). */
export interface ClassThumbs {
  url: string;
  columns: number;
  rows: number;
  /** Tile index of each class name. */
  index: Map<string, number>;
}

const BASE = `${import.meta.env.BASE_URL}samples/`;
let loading: Promise<ClassThumbs | null> | null = null;

/** Resolves to null when the thumbnails cannot be had: the picker then shows names only. */
export function loadClassThumbs(): Promise<ClassThumbs | null> {
  loading ??= fetch(`${BASE}class-thumbs.json`)
    .then((r) => (r.ok ? r.json() : null))
    .then((m: { file: string; columns: number; classes: string[] } | null) => m && {
      url: BASE + m.file,
      columns: m.columns,
      rows: Math.ceil(m.classes.length / m.columns),
      index: new Map(m.classes.map((c, i) => [c, i])),
    })
    .catch(() => null);
  return loading;
}
