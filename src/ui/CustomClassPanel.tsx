import { useEffect, useRef, useState } from 'react';
import { MIN_CUSTOM_SHOTS } from '../ml/custom/customExpert';
import { appStore, useAppStore } from '../store';
import { CustomClassList } from './CustomClassList';
import { TOUCH } from './touch';

const CAPTURE_EVERY_MS = 100;


/** "Add your own class": a name, images from the webcam (hold to capture a burst) or uploads, then training in the page. */
export function CustomClassPanel() {
  const ready = useAppStore((s) => s.poolStatus === 'ready');
  const webcamOn = useAppStore((s) => s.webcamOn);
  const draft = useAppStore((s) => s.customDraft);
  const busy = useAppStore((s) => s.customBusy);
  const error = useAppStore((s) => s.customError);
  const addFiles = useAppStore((s) => s.addCustomFiles);
  const capture = useAppStore((s) => s.captureCustomFrame);
  const clearDraft = useAppStore((s) => s.clearCustomDraft);
  const train = useAppStore((s) => s.trainCustom);
  const [name, setName] = useState('');
  const timer = useRef<ReturnType<typeof setInterval> | null>(null);
  const stop = () => {
    if (timer.current) clearInterval(timer.current);
    timer.current = null;
  };
  const start = () => {
    stop();
    capture();
    timer.current = setInterval(capture, CAPTURE_EVERY_MS);
  };
  useEffect(() => stop, []);
  const enough = draft.length >= MIN_CUSTOM_SHOTS;
  return (
    <section className="panel custom-classes" aria-label="Add your own class">
      <h2>Add your own class</h2>
      <p>Teach the model something the pool does not know: name it, show it at least {MIN_CUSTOM_SHOTS} pictures, and a small
        expert is trained here, in seconds, then consolidated with your other classes.</p>
      <label>Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="my keys" maxLength={40} data-testid="custom-name" style={TOUCH} /></label>
      <div className="custom-sources">
        <button type="button" disabled={!webcamOn || !!busy} data-testid="custom-capture"
          onPointerDown={start} onPointerUp={stop} onPointerLeave={stop} onPointerCancel={stop}
          onKeyDown={(e) => (e.key === ' ' || e.key === 'Enter') && !e.repeat && start()} onKeyUp={stop} onBlur={stop}>
          Hold to capture
        </button>
        {!webcamOn && <span className="notice"> Start the camera above to capture from it.</span>}{' '}
        <label className="filepick">or upload images<input type="file" accept="image/*" multiple hidden disabled={!!busy}
          onChange={(e) => { void addFiles([...(e.target.files ?? [])]); e.target.value = ''; }} data-testid="custom-file-input" /></label>
      </div>
      <p data-testid="custom-count">{draft.length} image{draft.length === 1 ? '' : 's'}{enough ? '' : ` (at least ${MIN_CUSTOM_SHOTS})`}</p>
      {draft.length > 0 && (
        <ul className="thumbs custom-draft" aria-label="Images for the new class">
          {draft.slice(-24).map((src, i) => <li key={i}><img src={src} alt="" width={48} height={48} /></li>)}
        </ul>
      )}
      <button type="button" disabled={!ready || !enough || !name.trim() || !!busy} data-testid="custom-train"
        onClick={() => void train(name).then(() => appStore.getState().customError || setName(''))}>
        Train “{name.trim() || '…'}”
      </button>{' '}
      {draft.length > 0 && <button type="button" onClick={clearDraft} disabled={!!busy}>Clear images</button>}
      {busy && (
        <p data-testid="custom-progress">
          <label>{busy.phase === 'preparing' ? 'Preparing the pool’s examples…' : `Training “${busy.label}”…`}{' '}
            <progress max={1} value={busy.phase === 'preparing' ? undefined : busy.progress} /></label>
        </p>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <CustomClassList />
    </section>
  );
}
