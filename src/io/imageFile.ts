import { MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS } from '../config';
import { LUMA } from '../ml/run/imageInput';

export class ImageFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFileError';
  }
}

export interface DecodedImage {
  /** Centre-cropped, resized pixels, size x size x channels (3: RGB, 1: grey), uint8. */
  pixels: Uint8Array;
  width: number;
  height: number;
  /** A small preview as a data URL; '' when none was asked for. */
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

const luma = (r: number, g: number, b: number) => Math.round(LUMA[0] * r + LUMA[1] * g + LUMA[2] * b);

/** A canvas's pixels as uint8 RGB (channels 3) or grey by luma, as the builder makes grey images (channels 1). */
export function canvasRgb(canvas: HTMLCanvasElement, channels = 3): Uint8Array {
  const { data } = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height);
  const out = new Uint8Array((data.length / 4) * channels);
  for (let i = 0, j = 0; i < data.length; i += 4, j += channels) {
    if (channels === 1) out[j] = luma(data[i], data[i + 1], data[i + 2]);
    else {
      out[j] = data[i];
      out[j + 1] = data[i + 1];
      out[j + 2] = data[i + 2];
    }
  }
  return out;
}

/** Turns a canvas grey in place (the preview of what a grey pool's model sees). */
function greyCanvas(canvas: HTMLCanvasElement): void {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) d[i] = d[i + 1] = d[i + 2] = luma(d[i], d[i + 1], d[i + 2]);
  ctx.putImageData(img, 0, 0);
}

/** Decodes an uploaded file into model-ready pixels (the pool's size and channels), or throws ImageFileError with a sentence for the user. */
export async function decodeImageFile(file: File, sizePx: number, channels = 3, { thumbnail = true } = {}): Promise<DecodedImage> {
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
    const pixels = canvasRgb(centreCropTo(bitmap, width, height, sizePx), channels);
    if (!thumbnail) return { pixels, width, height, thumbUrl: '' };
    const thumb = centreCropTo(bitmap, width, height, THUMB_PX);
    if (channels === 1) greyCanvas(thumb);
    // Not toBlob: Chromium encodes it in an idle period, and while a model keeps the page busy (the webcam loop,
    // a class training) there is none, so each call waited about a second (1.5 ms on a quiet page).
    return { pixels, width, height, thumbUrl: thumb.toDataURL('image/png') };
  } finally {
    bitmap.close();
  }
}
