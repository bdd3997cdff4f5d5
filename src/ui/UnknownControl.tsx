import { useAppStore } from '../store';

/** The "none of these" detector: on or off, and the p(known) threshold with what it does on the sample. */
export function UnknownControl() {
  const hasModel = useAppStore((s) => s.model !== null);
  const on = useAppStore((s) => s.detectUnknown);
  const cal = useAppStore((s) => s.unknownCalibration);
  const note = useAppStore((s) => s.unknownNote);
  const threshold = useAppStore((s) => s.unknownThreshold);
  const setOn = useAppStore((s) => s.setDetectUnknown);
  const setThreshold = useAppStore((s) => s.setUnknownThreshold);
  return (
    <div className="unknown-control" data-testid="unknown-control">
      <label>
        <input type="checkbox" checked={on} onChange={(e) => void setOn(e.target.checked)} /> Say “none of these” for images of
        other classes (runs every expert of the pool beside yours)
      </label>
      {on && hasModel && cal && (
        <>
          <label className="threshold">
            Threshold p(known){' '}
            <input type="range" min={0} max={1} step={0.005} value={threshold} aria-label="None of these below p(known)"
              onChange={(e) => setThreshold(Number(e.target.value))} />{' '}
            <output data-testid="unknown-threshold">{(100 * threshold).toFixed(1)} %</output>
          </label>
          <p className="notice" data-testid="unknown-calibration">
            Set on the pool’s sample images to keep {(100 * cal.knownKept).toFixed(0)} % of your classes’ {cal.knownImages} images;
            it turns away {(100 * cal.othersRejected).toFixed(0)} % of the {cal.otherImages} images of other classes.
            Move it right to reject more, left to keep more.
          </p>
        </>
      )}
      {on && note && <p className="notice">{note}</p>}
    </div>
  );
}
