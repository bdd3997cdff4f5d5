import { saveBytes } from './modelZip';

/** Writes size x size RGB pixels (uint8, 3 per pixel) into a 2D context at (0, 0). */
export function drawRgb(ctx: CanvasRenderingContext2D, rgb: Uint8Array, size: number): void {
  const img = ctx.createImageData(size, size);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    img.data[i] = rgb[j];
    img.data[i + 1] = rgb[j + 1];
    img.data[i + 2] = rgb[j + 2];
    img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** A size x size RGB image (uint8) as a PNG data URL, for thumbnails of captured frames. */
export function rgbToDataUrl(rgb: Uint8Array, size: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  drawRgb(canvas.getContext('2d')!, rgb, size);
  return canvas.toDataURL('image/png');
}

/** Offers a text file for download. */
export function saveText(text: string, filename: string, type = 'application/json'): void {
  saveBytes(new TextEncoder().encode(text), filename, type);
}
