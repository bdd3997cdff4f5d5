import * as tf from '@tensorflow/tfjs';
import { PoeError } from '../errors';

/** Pixels in memory: grey (1 value per pixel), RGB (3) or RGBA (4, alpha ignored), row-major, 0..255. ImageData is one. */
export interface PixelData {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** What TaskModel.classify takes: pixels in memory, anything tf.browser.fromPixels reads, or a [h,w,1|3|4] / [1,h,w,1|3|4] tensor in 0..255. */
export type ImageInput = PixelData | tf.Tensor3D | tf.Tensor4D | Parameters<typeof tf.browser.fromPixels>[0];

const isPixelData = (x: unknown): x is PixelData =>
  typeof x === 'object' && x !== null && 'data' in x && typeof (x as PixelData).width === 'number' && typeof (x as PixelData).height === 'number'
  && typeof (x as PixelData).data?.length === 'number';

function pixelTensor(image: ImageInput): tf.Tensor3D {
  if (image instanceof tf.Tensor) {
    const t = image.rank === 4 && image.shape[0] === 1 ? image.squeeze([0]) : image;
    if (t.rank !== 3 || ![1, 3, 4].includes(t.shape[2] ?? 0))
      throw new PoeError('IMAGE_INVALID', `The image tensor has shape [${image.shape}]; [height, width, 1, 3 or 4] or [1, height, width, 1, 3 or 4] is expected.`);
    return t.toFloat() as tf.Tensor3D;
  }
  if (isPixelData(image)) {
    const { data, width, height } = image;
    const channels = data.length / (width * height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || ![1, 3, 4].includes(channels))
      throw new PoeError('IMAGE_INVALID', `The pixels hold ${data.length} values for ${width} x ${height}: 1 (grey), 3 (RGB) or 4 (RGBA) per pixel are expected.`);
    return tf.tensor3d(Float32Array.from(data), [height, width, channels]);
  }
  return tf.browser.fromPixels(image).toFloat();
}

/** ITU-R BT.601 luma, as PIL's convert('L') computes it: how the builder turns colour images grey. */
export const LUMA = [0.299, 0.587, 0.114];

/** [h, w, 1|3|4] -> [h, w, channels] (1 or 3): alpha dropped, colour to grey by luma, grey repeated as RGB. */
function toChannels(x: tf.Tensor3D, channels: number): tf.Tensor3D {
  if (x.shape[2] === 4) x = x.slice([0, 0, 0], [-1, -1, 3]);
  if (x.shape[2] === channels) return x;
  if (channels === 1) return x.mul(tf.tensor1d(LUMA)).sum(2, true);
  return tf.tile(x, [1, 1, 3]);
}

/**
 * The model's input for one image: the centre square, scaled to size x size and converted to the pool's
 * channels (3: RGB, 1: grey), as float [1, size, size, channels] in 0..255. Large images are first
 * averaged down by a whole factor, so that scaling does not alias.
 */
export function modelInput(image: ImageInput, size: number, channels = 3): tf.Tensor4D {
  return tf.tidy(() => {
    let x = toChannels(pixelTensor(image), channels);
    const [h, w] = x.shape;
    const side = Math.min(h, w);
    if (h !== w) x = x.slice([Math.floor((h - side) / 2), Math.floor((w - side) / 2), 0], [side, side, channels]);
    const factor = Math.floor(side / size);
    if (factor >= 2) x = tf.avgPool(x, factor, factor, 'valid');
    if (x.shape[0] !== size) x = tf.image.resizeBilinear(x, [size, size], false, true);
    return x.expandDims(0) as tf.Tensor4D;
  });
}

/** The images at `indices` (each `perImage` bytes) of a packed NHWC uint8 batch, packed in that order. */
export function pickImages(images: Uint8Array, perImage: number, indices: readonly number[]): Uint8Array {
  const out = new Uint8Array(indices.length * perImage);
  indices.forEach((src, j) => out.set(images.subarray(src * perImage, (src + 1) * perImage), j * perImage));
  return out;
}
