import type { PoolManifest } from './poolManifest';
import { sha256Hex } from '../util/sha256';

/**
 * A short hash of everything that decides a consolidated model's outputs: the input, the classes and
 * their experts in order, and the checksums of every weight file. Two pools with the same fingerprint
 * build the same model from the same selection; a shared link carries it to tell when they do not.
 */
export async function poolFingerprint(m: PoolManifest): Promise<string> {
  const canonical = JSON.stringify({
    name: m.name,
    version: m.version,
    input: [m.input.sizePx, m.input.channels, m.input.range, m.input.mean, m.input.std],
    classes: m.classes.map((c) => [c.index, c.name, c.task]),
    library: [m.library.files.model.sha256, m.library.files.weights.sha256],
    experts: m.experts.map((e) => [e.name, e.classes, e.files.model.sha256, e.files.weights.sha256]),
  });
  return (await sha256Hex(new TextEncoder().encode(canonical))).slice(0, 16);
}
