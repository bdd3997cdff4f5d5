import { sha256Hex } from '../ml/sha256';

/** The built-in check's images: CIFAR-100 test images shipped with the app (experts/tools/make_sample.py). */
export interface Sample {
  images: Uint8Array;
  labels: number[];
  classNames: string[];
  count: number;
  sizePx: number;
}

const BASE = `${import.meta.env.BASE_URL}samples/`;

export async function loadSample(): Promise<Sample> {
  const metaRes = await fetch(`${BASE}cifar100-test-sample.json`);
  if (!metaRes.ok) throw new Error(`The built-in test images could not be downloaded (${metaRes.status}).`);
  const meta = await metaRes.json();
  const binRes = await fetch(BASE + meta.file);
  if (!binRes.ok) throw new Error(`The built-in test images could not be downloaded (${binRes.status}).`);
  const images = new Uint8Array(await binRes.arrayBuffer());
  if (images.byteLength !== meta.bytes || (await sha256Hex(images)) !== meta.sha256)
    throw new Error('The built-in test images are damaged (size or checksum mismatch).');
  return { images, labels: meta.labels, classNames: meta.classNames, count: meta.count, sizePx: meta.sizePx };
}
