import { useState } from 'react';
import type { WeightPrecision } from '../ml/exportModel';
import { useAppStore } from '../store';
import type { ModelFormat } from '../store/checkSlice';
import { formatBytes } from './ProgressBar';

export function DownloadPanel() {
  const hasModel = useAppStore((s) => s.model !== null);
  const modelVersion = useAppStore((s) => s.modelVersion);
  const precisions = useAppStore((s) => s.precisions);
  const busy = useAppStore((s) => s.exportBusy);
  const error = useAppStore((s) => s.exportError);
  const comparePrecisions = useAppStore((s) => s.comparePrecisions);
  const downloadModel = useAppStore((s) => s.downloadModel);
  const [precision, setPrecision] = useState<WeightPrecision>('float32');
  const [format, setFormat] = useState<ModelFormat>('tfjs');
  const chooseFormat = (f: ModelFormat) => {
    setFormat(f);
    if (f === 'onnx' && precision === 'uint8') setPrecision('float16');
  };
  const comparedFor = useAppStore((s) => s.precisionsVersion);
  const base = precisions?.find((p) => p.precision === 'float32');
  return (
    <section className="panel download" aria-label="Download">
      <h2>Download</h2>
      <p>
        {format === 'tfjs'
          ? 'A .zip with model.json, the weights, metadata.json and a README: loads with plain TensorFlow.js anywhere.'
          : 'A .zip with model.onnx (opset 17), metadata.json and a README: runs in ONNX Runtime on phones, servers and browsers.'}
      </p>
      <fieldset className="format" disabled={!hasModel || busy}>
        <legend>Format</legend>
        {([['tfjs', 'TensorFlow.js'], ['onnx', 'ONNX']] as const).map(([f, label]) => (
          <label key={f} data-format={f}>
            <input type="radio" name="format" checked={format === f} onChange={() => chooseFormat(f)} /> {label}
          </label>
        ))}
      </fieldset>
      <fieldset className="precision" disabled={!hasModel || busy}>
        <legend>Weights</legend>
        {(['float32', 'float16', 'uint8'] as const).map((p) => {
          const o = comparedFor === modelVersion ? precisions?.find((x) => x.precision === p) : undefined;
          return (
            <label key={p} data-precision={p}>
              <input type="radio" name="precision" checked={precision === p} disabled={format === 'onnx' && p === 'uint8'}
                onChange={() => setPrecision(p)} /> {p}
              {o && base && format === 'tfjs' && (
                <span className="precision-figures">
                  {' '}{formatBytes(o.bytes)}, {(100 * o.top1).toFixed(1)} % on the built-in sample
                  {p !== 'float32' && ` (${o.top1 >= base.top1 ? '+' : ''}${(100 * (o.top1 - base.top1)).toFixed(1)} points)`}
                </span>
              )}
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
