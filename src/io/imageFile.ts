import { MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS } from '../config';

export class ImageFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFileError';
  }
}

export interface DecodedImage {
  /** Centre-cropped, resized RGB pixels, size x size x 3, uint8. */
  pixels: Uint8Array;
  width: number;
  height: number;
  /** A small preview as an object URL; revoke it when done. */
  thumbUrl: string;
}

const THUMB_PX = 96;

/** Draws the centre square of `source` into a size x size canvas with high-quality smoothing. */
export function centreCropTo(source: CanvasImageSource, srcW: number, srcH: number, size: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  const side = Math.min(srcW, srcH);
  ctx.drawImage(source, (srcW - side) / 2, (srcH - side) / 2, side, side, 0, 0, size, size);
  return canvas;
}

export function canvasRgb(canvas: HTMLCanvasElement): Uint8Array {
  const { data } = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height);
  const rgb = new Uint8Array((data.length / 4) * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = data[i + 1];
    rgb[j + 2] = data[i + 2];
  }
  return rgb;
}

/** Decodes an uploaded file into model-ready pixels, or throws ImageFileError with a sentence for the user. */
export async function decodeImageFile(file: File, sizePx: number): Promise<DecodedImage> {
  if (file.size === 0) throw new ImageFileError('The file is empty (0 bytes).');
  if (file.size > MAX_UPLOAD_BYTES)
    throw new ImageFileError(`The file is ${(file.size / 1e6).toFixed(0)} MB; images up to ${MAX_UPLOAD_BYTES / 1e6} MB are accepted.`);
  if (file.type && !file.type.startsWith('image/'))
    throw new ImageFileError(`This is not an image (its type is ${file.type}).`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new ImageFileError('The image could not be decoded: the file is corrupt, truncated, or not an image format this browser reads.');
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_UPLOAD_PIXELS)
      throw new ImageFileError(`The image is ${width} x ${height} pixels; up to ${(MAX_UPLOAD_PIXELS / 1e6).toFixed(0)} megapixels are accepted.`);
    const pixels = canvasRgb(centreCropTo(bitmap, width, height, sizePx));
    const thumb = centreCropTo(bitmap, width, height, THUMB_PX);
    const blob = await new Promise<Blob | null>((resolve) => thumb.toBlob(resolve, 'image/png'));
    return { pixels, width, height, thumbUrl: blob ? URL.createObjectURL(blob) : '' };
  } finally {
    bitmap.close();
  }
}
