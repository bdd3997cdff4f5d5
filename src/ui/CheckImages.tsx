import type { Sample } from '../io/sample';
import type { Outcome } from '../store/checkSlice';
import { outcomesOf } from '../store/confusion';
import { imageAt } from '../io/pixels';
import { PixelCanvas } from './SampleImage';

/** A matrix cell (true and predicted class) or a whole class (true class only). */
export interface CheckPick {
  truth: string;
  predicted?: string;
}

export function CheckImages({ pick, outcomes, sample, close }: { pick: CheckPick; outcomes: Outcome[]; sample: Sample; close: () => void }) {
  const shown = outcomesOf(outcomes, pick.truth, pick.predicted);
  const name = (l: string) => l.replaceAll('_', ' ');
  const title = pick.predicted === undefined ? `${name(pick.truth)}: all ${shown.length} images` : `${name(pick.truth)} taken for ${name(pick.predicted)}: ${shown.length} image${shown.length === 1 ? '' : 's'}`;
  return (
    <div className="check-images" data-testid="check-images" role="group" aria-label={title}>
      <div className="check-images-head">
        <h3>{title}</h3>
        <button type="button" onClick={close}>Close</button>
      </div>
      <ul>
        {shown.map((o) => (
          <li key={o.sample} className={o.predicted === o.truth ? 'right' : 'wrong'}>
            <PixelCanvas rgb={imageAt(sample.images, o.sample, sample.count)} size={sample.sizePx} displayPx={64} title={o.truth} />
            <span>{o.predicted === o.truth ? 'right' : name(o.predicted)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
