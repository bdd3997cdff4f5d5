import { saveBytes } from './modelZip';

/** Writes size x size pixels (uint8; 3 per pixel RGB, or 1 grey) into a 2D context at (0, 0). */
export function drawRgb(ctx: CanvasRenderingContext2D, px: Uint8Array, size: number): void {
  const img = ctx.createImageData(size, size);
  const c = px.length / (size * size) === 1 ? 1 : 3;
  for (let i = 0, j = 0; j < px.length; i += 4, j += c) {
    img.data[i] = px[j];
    img.data[i + 1] = px[c === 1 ? j : j + 1];
    img.data[i + 2] = px[c === 1 ? j : j + 2];
    img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** One image of `count` in a buffer of size x size images (any channels), as a view. */
export function imageAt(images: Uint8Array, index: number, count: number): Uint8Array {
  const per = images.length / count;
  return images.subarray(index * per, (index + 1) * per);
}

/** A size x size image (uint8, RGB or grey) as a PNG data URL, for thumbnails of captured frames. */
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
