/**
 * A user's own class: a small expert trained in the page on the library's frozen features. It is
 * built from standard layers only (DepthwiseConv2D, Conv2D, GlobalAveragePooling2D, Dense), so it
 * grafts into the pool graph like a built-in expert and exports to TF.js and ONNX unchanged:
 *
 *   library features [16,16,32] -> 2x2 average (a fixed depthwise conv, stride 2) -> [8,8,32]
 *   -> 1x1 conv to `hidden` channels + ReLU -> global average pooling -> dense to 1 logit
 */
export interface CustomExpertSpec {
  /** Stable id, also the name used in a selection ("custom_..."); the label may change. */
  id: string;
  label: string;
  hidden: number;
  /** Library output shape [h, w, c]. */
  featureShape: number[];
  /** Conv kernel [c, hidden], conv bias [hidden], dense kernel [hidden], dense bias [1], concatenated. */
  weights: Float32Array;
  pool: { name: string; version: string };
  shots: number;
  calibration: string;
  trainMs: number;
  createdAt: string;
}
