import { useAppStore } from '../store';

/** Shows how closely this device's backend reproduces the PyTorch logits shipped with the pool. */
export function DeviceCheck() {
  const check = useAppStore((s) => s.deviceCheck);
  const error = useAppStore((s) => s.deviceCheckError);
  const run = useAppStore((s) => s.checkDevice);
  const ready = useAppStore((s) => s.poolStatus === 'ready');
  return (
    <div className="device-check">
      <button type="button" disabled={!ready} onClick={() => void run()} data-testid="device-check-run">Check this device against PyTorch</button>
      {check && (
        <p data-testid="device-check" data-backend={check.backend} data-max-diff={check.maxAbsDiff} data-agree={check.top1Agree} data-images={check.images}>
          {check.backend}: largest logit difference {check.maxAbsDiff.toExponential(1)} over {check.logits} logits; top-1 agrees on{' '}
          {check.top1Agree} of {check.images} reference images.
        </p>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
