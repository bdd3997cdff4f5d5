import type { Prediction } from '../ml/run/predict';

export function TopBars({ top }: { top: Prediction[] }) {
  return (
    <ol className="bars" data-testid="webcam-top" aria-label="Top predictions">
      {top.map((p) => (
        <li key={p.label}>
          <span className="bar-label">{p.label.replaceAll('_', ' ')}</span>
          <span className="bar"><span style={{ width: `${100 * p.probability}%` }} /></span>
          <span className="bar-value">{(100 * p.probability).toFixed(0)} %</span>
        </li>
      ))}
    </ol>
  );
}
