import type { ClassThumbs } from '../io/classThumbs';

/** The class's picture from the built-in sample, cut from the sprite sheet; decorative (the name is next to it). */
export function ClassThumb({ thumbs, name }: { thumbs: ClassThumbs | null; name: string }) {
  const i = thumbs?.index.get(name);
  if (!thumbs || i === undefined) return <span className="thumb" aria-hidden="true" />;
  const col = i % thumbs.columns;
  const row = Math.floor(i / thumbs.columns);
  return (
    <span
      className="thumb"
      aria-hidden="true"
      data-thumb={name}
      style={{
        backgroundImage: `url(${thumbs.url})`,
        backgroundSize: `${thumbs.columns * 100}% ${thumbs.rows * 100}%`,
        backgroundPosition: `${(100 * col) / (thumbs.columns - 1)}% ${(100 * row) / (thumbs.rows - 1)}%`,
      }}
    />
  );
}
