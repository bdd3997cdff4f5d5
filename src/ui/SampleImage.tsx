import { useEffect, useRef } from 'react';
import { drawRgb } from '../io/pixels';

/** Draws size x size pixels (uint8, RGB or grey) into a canvas shown at `displayPx`. */
export function PixelCanvas({ rgb, size, displayPx, title, mirrored = false }: { rgb: Uint8Array; size: number; displayPx: number; title?: string; mirrored?: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    drawRgb(ctx, rgb, size);
  }, [rgb, size]);
  return <canvas ref={ref} width={size} height={size} title={title} className={mirrored ? 'pixels mirrored' : 'pixels'} style={{ width: displayPx, height: displayPx }} />;
}
