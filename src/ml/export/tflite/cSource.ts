/** What a firmware author needs beside the bytes: shown in the header's comment. */
export interface CSourceNotes {
  labels: string[];
  operators: string[];
  arenaBytes: number;
  inputShape: number[];
  about: string;
}

const OP_RESOLVER: Record<string, string> = {
  CONV_2D: 'AddConv2D', DEPTHWISE_CONV_2D: 'AddDepthwiseConv2D', ADD: 'AddAdd', PAD: 'AddPad', MEAN: 'AddMean',
  FULLY_CONNECTED: 'AddFullyConnected', CONCATENATION: 'AddConcatenation', RESHAPE: 'AddReshape', RELU: 'AddRelu',
  QUANTIZE: 'AddQuantize', DEQUANTIZE: 'AddDequantize', AVERAGE_POOL_2D: 'AddAveragePool2D', SOFTMAX: 'AddSoftmax',
};

/** A TFLite model as the C source pair TFLite Micro examples use: model_data.h declares, model_data.cc holds the aligned bytes. */
export function cSourcePair(model: Uint8Array, notes: CSourceNotes): { 'model_data.h': string; 'model_data.cc': string } {
  const ops = notes.operators.map((o) => `//   resolver.${OP_RESOLVER[o] ?? o}();`).join('\n');
  const header = `// PoE Studio model for TensorFlow Lite Micro. ${notes.about}
//
// Flash: ${model.length} bytes (g_poe_model_data).
// Input: uint8 pixels [${notes.inputShape.join(', ')}], 0..255 as captured (scale 1, zero point 0).
// Output: float32 logits [1, ${notes.labels.length}] in this order:
${notes.labels.map((l, i) => `//   ${i}: ${l}`).join('\n')}
//
// Tensor arena: the activations need ${notes.arenaBytes} bytes at their peak (computed from the graph);
// give the interpreter that plus its own bookkeeping, for example kTensorArenaSize = ${arenaSuggestion(notes.arenaBytes)}.
// Operators to register (tflite::MicroMutableOpResolver<${notes.operators.length}> resolver;):
${ops}
#ifndef POE_MODEL_DATA_H_
#define POE_MODEL_DATA_H_

extern const unsigned char g_poe_model_data[];
extern const unsigned int g_poe_model_data_len;

#endif  // POE_MODEL_DATA_H_
`;
  const rows: string[] = [];
  for (let i = 0; i < model.length; i += 12)
    rows.push('  ' + Array.from(model.subarray(i, i + 12), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ') + ',');
  const source = `// PoE Studio model for TensorFlow Lite Micro: see model_data.h.
#include "model_data.h"

// 16-byte alignment lets the interpreter read the model's int32 and float data in place.
alignas(16) const unsigned char g_poe_model_data[] = {
${rows.join('\n')}
};
const unsigned int g_poe_model_data_len = ${model.length};
`;
  return { 'model_data.h': header, 'model_data.cc': source };
}

/** The peak activations plus a quarter and 4 KiB for the interpreter's own structures, rounded up to 1 KiB. */
export function arenaSuggestion(arenaBytes: number): number {
  return Math.ceil((arenaBytes * 1.25 + 4096) / 1024) * 1024;
}
