/** One picture per class for the class picker: a sprite sheet in the pool folder (experts/tools/make_sample.py). */
export interface ClassThumbs {
  url: string;
  columns: number;
  rows: number;
  /** Tile index of each class name. */
  index: Map<string, number>;
}

const loading = new Map<string, Promise<ClassThumbs | null>>();

/** The thumbnails of the pool served at `poolUrl` (ending in /); null when it has none: the picker then shows names only. */
export function loadClassThumbs(poolUrl: string): Promise<ClassThumbs | null> {
  let p = loading.get(poolUrl);
  if (!p) {
    p = fetch(`${poolUrl}class-thumbs.json`)
      .then((r) => (r.ok ? r.json() : null))
      .then((m: { file: string; columns: number; classes: string[] } | null) => m && {
        url: poolUrl + m.file,
        columns: m.columns,
        rows: Math.ceil(m.classes.length / m.columns),
        index: new Map(m.classes.map((c, i) => [c, i])),
      })
      .catch(() => null);
    loading.set(poolUrl, p);
  }
  return p;
}
