import { useEffect, useState } from 'react';
import type { Sample } from '../io/sample';
import { useAppStore } from '../store';
import { MATRIX_MAX_CLASSES } from '../config';
import { CheckImages, type CheckPick } from './CheckImages';
import { ClassAccuracyBars } from './ClassAccuracyBars';
import { ConfusionMatrix } from './ConfusionMatrix';
import { imageAt } from '../io/pixels';
import { PixelCanvas } from './SampleImage';

const SHOWN_MISTAKES = 40;

export function BuiltInCheck() {
  const check = useAppStore((s) => s.check);
  const busy = useAppStore((s) => s.checkBusy);
  const error = useAppStore((s) => s.checkError);
  const runCheck = useAppStore((s) => s.runCheck);
  const getSample = useAppStore((s) => s.getSample);
  const hasModel = useAppStore((s) => s.model !== null);
  const modelVersion = useAppStore((s) => s.modelVersion);
  const threshold = useAppStore((s) => s.unknownThreshold);
  const [sample, setSample] = useState<Sample | null>(null);
  const [picked, setPicked] = useState<CheckPick | null>(null);
  useEffect(() => {
    setPicked(null);
    if (check) void getSample().then(setSample, () => setSample(null));
  }, [check, getSample]);
  const current = check && check.modelVersion === modelVersion && (!check.unknown || check.unknown.threshold === threshold);
  return (
    <section className="panel check" aria-label="Built-in check">
      <h2>Built-in check</h2>
      <p data-testid="check-about">{sample ? `The pool’s sample: ${sample.about}, ${sample.count} images, never used for training.` : 'Test images that come with the pool, never used for training.'}</p>
      <button type="button" disabled={!hasModel || busy} onClick={() => void runCheck()} data-testid="check-run">
        {busy ? 'Checking…' : 'Measure accuracy on the selected classes'}
      </button>
      {error && <p className="error" role="alert">{error}</p>}
      {check && current && (
        <>
          <p data-testid="check-result" data-top1={check.top1}>
            <strong>{(100 * check.top1).toFixed(1)} %</strong> top-1: {check.correct} of {check.images} images right;{' '}
            {check.crossExpertErrors} of the {check.images - check.correct} errors picked a class of another expert.
          </p>
          {check.unknown && (
            <p data-testid="check-unknown" data-kept={check.unknown.knownKept} data-rejected={check.unknown.othersRejected}>
              “None of these” at p(known) {(100 * check.unknown.threshold).toFixed(1)} %: keeps {(100 * check.unknown.knownKept).toFixed(1)} % of
              the {check.unknown.knownImages} images of your classes and turns away {(100 * check.unknown.othersRejected).toFixed(1)} % of
              {' '}{check.unknown.otherImages} images of other classes (the last row and column).
            </p>
          )}
          {check.labels.length - (check.unknown ? 1 : 0) <= MATRIX_MAX_CLASSES
            ? <ConfusionMatrix labels={check.labels} outcomes={check.outcomes} picked={picked} pick={setPicked} />
            : <ClassAccuracyBars labels={check.labels} outcomes={check.outcomes} picked={picked} pick={setPicked} />}
          {sample && picked && <CheckImages pick={picked} outcomes={check.outcomes} sample={sample} close={() => setPicked(null)} />}
          {sample && check.mistakes.length > 0 && <h3>Mistakes</h3>}
          {sample && check.mistakes.length > 0 && (
            <ul className="mistakes">
              {check.mistakes.slice(0, SHOWN_MISTAKES).map((m) => (
                <li key={m.sample}>
                  <PixelCanvas rgb={imageAt(sample.images, m.sample, sample.count)} size={sample.sizePx} displayPx={64} title={m.truth} />
                  <span>{m.truth} → <em>{m.predicted}</em></span>
                </li>
              ))}
              {check.mistakes.length > SHOWN_MISTAKES && <li>and {check.mistakes.length - SHOWN_MISTAKES} more</li>}
            </ul>
          )}
        </>
      )}
      {check && !current && <p className="notice">{check.modelVersion === modelVersion ? 'The threshold changed' : 'The selection changed'}: measure again.</p>}
    </section>
  );
}
