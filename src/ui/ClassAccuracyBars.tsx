import type { Outcome } from '../store/checkSlice';
import { classAccuracies } from '../store/confusion';
import type { CheckPick } from './CheckImages';

/** Per-class accuracy, worst first, for selections too large for a matrix; each bar opens its class's images. */
export function ClassAccuracyBars({ labels, outcomes, picked, pick }: { labels: string[]; outcomes: Outcome[]; picked: CheckPick | null; pick: (p: CheckPick) => void }) {
  return (
    <ol className="class-accuracy" data-testid="class-accuracy" aria-label="Accuracy per class, worst first">
      {classAccuracies(labels, outcomes).map((a) => {
        const name = a.label.replaceAll('_', ' ');
        return (
          <li key={a.label}>
            <button type="button" data-class-bar={a.label} aria-pressed={picked?.truth === a.label && !picked.predicted} onClick={() => pick({ truth: a.label })}>
              <span className="bar-label">{name}</span>
              <span className="bar"><span style={{ width: `${a.total ? (100 * a.correct) / a.total : 0}%` }} /></span>
              <span className="bar-value">{a.correct}/{a.total}<span className="visually-hidden"> right</span></span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}
