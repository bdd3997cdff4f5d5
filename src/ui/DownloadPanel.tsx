import { useState } from 'react';
import { useAppStore } from '../store';
import { FORMAT_PRECISIONS, type DownloadPrecision, type ModelFormat, type PrecisionOption } from '../store/checkSlice';
import { formatBytes } from './ProgressBar';

const FORMATS: [ModelFormat, string, string][] = [
  ['tfjs', 'TensorFlow.js', 'A .zip with model.json, the weights, metadata.json and a README: loads with plain TensorFlow.js anywhere.'],
  ['onnx', 'ONNX', 'A .zip with model.onnx (opset 17), metadata.json and a README: runs in ONNX Runtime on phones, servers and browsers.'],
  ['tflite', 'LiteRT (TFLite)', 'A .zip with model.tflite, metadata.json and a README: runs in LiteRT on Android, iOS, a Raspberry Pi or the web. int8 adds model_data.h/.cc, a C array for TensorFlow Lite Micro on microcontrollers.'],
];

function Figures({ o, base }: { o: PrecisionOption; base?: PrecisionOption }) {
  if (o.top1 === null) return <span className="precision-figures"> {formatBytes(o.bytes)}, the same graph as TensorFlow.js</span>;
  const delta = base && base !== o && base.top1 !== null ? o.top1 - base.top1 : null;
  return (
    <span className="precision-figures">
      {' '}{formatBytes(o.bytes)}, {(100 * o.top1).toFixed(1)} % on the built-in sample
      {delta !== null && ` (${delta >= 0 ? '+' : ''}${(100 * delta).toFixed(1)} points)`}
    </span>
  );
}

export function DownloadPanel() {
  const hasModel = useAppStore((s) => s.model !== null);
  const modelVersion = useAppStore((s) => s.modelVersion);
  const precisions = useAppStore((s) => s.precisions);
  const busy = useAppStore((s) => s.exportBusy);
  const error = useAppStore((s) => s.exportError);
  const comparePrecisions = useAppStore((s) => s.comparePrecisions);
  const downloadModel = useAppStore((s) => s.downloadModel);
  const [precision, setPrecision] = useState<DownloadPrecision>('float32');
  const [format, setFormat] = useState<ModelFormat>('tfjs');
  const chooseFormat = (f: ModelFormat) => {
    setFormat(f);
    if (!FORMAT_PRECISIONS[f].includes(precision)) setPrecision(f === 'onnx' ? 'float16' : 'float32');
  };
  const comparedFor = useAppStore((s) => s.precisionsVersion);
  const measured = comparedFor === modelVersion ? precisions?.filter((p) => p.format === format) : undefined;
  const base = measured?.find((p) => p.precision === 'float32');
  return (
    <section className="panel download" aria-label="Download">
      <h2>Download</h2>
      <p>{FORMATS.find(([f]) => f === format)![2]}</p>
      <fieldset className="format" disabled={!hasModel || busy}>
        <legend>Format</legend>
        {FORMATS.map(([f, label]) => (
          <label key={f} data-format={f}>
            <input type="radio" name="format" checked={format === f} onChange={() => chooseFormat(f)} /> {label}
          </label>
        ))}
      </fieldset>
      <fieldset className="precision" disabled={!hasModel || busy}>
        <legend>{format === 'tflite' ? 'Precision' : 'Weights'}</legend>
        {FORMAT_PRECISIONS[format].map((p) => {
          const o = measured?.find((x) => x.precision === p);
          return (
            <label key={p} data-precision={p}>
              <input type="radio" name="precision" checked={precision === p} onChange={() => setPrecision(p)} />{' '}
              {p === 'int8' ? 'int8 (full integer)' : p}
              {o && <Figures o={o} base={base} />}
            </label>
          );
        })}
      </fieldset>
      <button type="button" disabled={!hasModel || busy} onClick={() => void comparePrecisions()}>
        Compare sizes and accuracy
      </button>{' '}
      <button type="button" disabled={!hasModel || busy} onClick={() => void downloadModel(precision, format)} data-testid="download">
        Download .zip
      </button>
      {busy && <span> Working…</span>}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
