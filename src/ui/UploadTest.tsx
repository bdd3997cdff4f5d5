import { useState } from 'react';
import { useAppStore } from '../store';

export function UploadTest() {
  const uploads = useAppStore((s) => s.uploads);
  const addFiles = useAppStore((s) => s.addFiles);
  const clearUploads = useAppStore((s) => s.clearUploads);
  const hasModel = useAppStore((s) => s.model !== null);
  const [over, setOver] = useState(false);
  return (
    <section className="panel uploads" aria-label="Test on images">
      <h2>Test on your images</h2>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); void addFiles([...e.dataTransfer.files]); }}
      >
        <p>Drop images here, or <label className="filepick">choose files<input type="file" accept="image/*" multiple hidden
          onChange={(e) => { void addFiles([...(e.target.files ?? [])]); e.target.value = ''; }} data-testid="file-input" /></label>.</p>
        {!hasModel && <p className="notice">Select classes first: predictions appear once a model is built.</p>}
      </div>
      {uploads.length > 0 && <button type="button" onClick={clearUploads}>Clear images</button>}
      <ul className="thumbs">
        {uploads.map((u) => (
          <li key={u.id} data-upload={u.name} data-status={u.status} data-unknown={u.unknown || undefined}>
            {u.thumbUrl ? <img src={u.thumbUrl} alt={u.name} width={96} height={96} /> : <div className="thumb-empty" />}
            <div className="thumb-name">{u.name}</div>
            {u.status === 'decoding' && <div>Reading…</div>}
            {u.error && <div className="error">{u.error}</div>}
            {u.status === 'ready' && u.known !== null && (
              <div className={u.unknown ? 'none-of-these' : 'known-score'}>
                {u.unknown ? 'None of these' : 'One of yours'}: p(known) {(100 * u.known).toFixed(1)} %
              </div>
            )}
            <ol className="preds">
              {u.predictions.map((p) => <li key={p.label}><span>{p.label}</span> <span>{(100 * p.probability).toFixed(1)} %</span></li>)}
            </ol>
          </li>
        ))}
      </ul>
    </section>
  );
}
