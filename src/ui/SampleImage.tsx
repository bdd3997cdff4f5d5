import { useEffect, useRef } from 'react';

/** Draws size x size RGB pixels (uint8, 3 per pixel) into a canvas shown at `displayPx`. */
export function PixelCanvas({ rgb, size, displayPx, title, mirrored = false }: { rgb: Uint8Array; size: number; displayPx: number; title?: string; mirrored?: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(size, size);
    for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
      img.data[i] = rgb[j];
      img.data[i + 1] = rgb[j + 1];
      img.data[i + 2] = rgb[j + 2];
      img.data[i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [rgb, size]);
  return <canvas ref={ref} width={size} height={size} title={title} className={mirrored ? 'pixels mirrored' : 'pixels'} style={{ width: displayPx, height: displayPx }} />;
}
