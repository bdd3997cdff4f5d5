import type { Outcome } from '../store/checkSlice';
import { confusionMatrix } from '../store/confusion';
import type { CheckPick } from './CheckImages';

/** Rows: true class; columns: predicted class. Each non-zero count opens its images. */
export function ConfusionMatrix({ labels, outcomes, picked, pick }: { labels: string[]; outcomes: Outcome[]; picked: CheckPick | null; pick: (p: CheckPick) => void }) {
  const m = confusionMatrix(labels, outcomes);
  const name = (l: string) => l.replaceAll('_', ' ');
  return (
    <div className="matrix-scroll" role="region" aria-label="Confusion matrix" tabIndex={0}>
      <table className="matrix" data-testid="confusion-matrix">
        <caption>Rows: true class. Columns: what the model said. Pick a number to see its images.</caption>
        <thead>
          <tr>
            <th scope="col"><span className="visually-hidden">True class</span></th>
            {labels.map((l) => <th key={l} scope="col"><span className="col-label">{name(l)}</span></th>)}
          </tr>
        </thead>
        <tbody>
          {labels.map((truth, i) => (
            <tr key={truth}>
              <th scope="row">{name(truth)}</th>
              {labels.map((predicted, j) => {
                const n = m[i][j];
                const on = picked?.truth === truth && picked.predicted === predicted;
                return (
                  <td key={predicted} className={n === 0 ? 'zero' : i === j ? 'hit' : 'miss'}>
                    {n > 0 ? (
                      <button type="button" aria-pressed={on} data-cell={`${truth}|${predicted}`} onClick={() => pick({ truth, predicted })}
                        aria-label={`${name(truth)} taken for ${name(predicted)}: ${n} image${n === 1 ? '' : 's'}`}>{n}</button>
                    ) : '0'}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
