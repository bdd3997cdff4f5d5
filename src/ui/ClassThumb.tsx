import type { ClassThumbs } from '../io/classThumbs';

/** The class's picture from the pool's sample, cut from the sprite sheet; decorative (the name is next to it). */
export function ClassThumb({ thumbs, name }: { thumbs: ClassThumbs | null; name: string }) {
  const i = thumbs?.index.get(name);
  if (!thumbs || i === undefined) return <span className="thumb" aria-hidden="true" />;
  const col = i % thumbs.columns;
  const row = Math.floor(i / thumbs.columns);
  const at = (k: number, n: number) => (n > 1 ? (100 * k) / (n - 1) : 0); // one row (or column): no division by zero
  return (
    <span
      className="thumb"
      aria-hidden="true"
      data-thumb={name}
      style={{
        backgroundImage: `url(${thumbs.url})`,
        backgroundSize: `${thumbs.columns * 100}% ${thumbs.rows * 100}%`,
        backgroundPosition: `${at(col, thumbs.columns)}% ${at(row, thumbs.rows)}%`,
      }}
    />
  );
}
