import { useState } from 'react';
import { useAppStore } from '../store';

/** "Share this model" (a link, a QR code, the system share sheet) and projects saved to or opened from a file. */
export function SharePanel() {
  const hasModel = useAppStore((s) => s.model !== null);
  const hasCustom = useAppStore((s) => s.customClasses.length > 0);
  const share = useAppStore((s) => s.share);
  const error = useAppStore((s) => s.shareError);
  const makeShareLink = useAppStore((s) => s.makeShareLink);
  const closeShare = useAppStore((s) => s.closeShare);
  const saveProject = useAppStore((s) => s.saveProject);
  const openProjectFile = useAppStore((s) => s.openProjectFile);
  const [withImages, setWithImages] = useState(true);
  const [copied, setCopied] = useState(false);
  const canShareSheet = typeof navigator !== 'undefined' && typeof navigator.share === 'function';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(share!.link);
      setCopied(true);
    } catch {
      (document.getElementById('share-link') as HTMLInputElement | null)?.select(); // clipboard refused: select it for the user
    }
  };
  return (
    <section className="panel share" aria-label="Share">
      <h2>Share</h2>
      <p>The model is its recipe: which pool, which classes, your own classes’ weights. The link holds all of it after the #, which never reaches a server; whoever opens it gets the same model, built on their device.</p>
      <div className="share-tools">
        <button type="button" disabled={!hasModel} onClick={() => { setCopied(false); void makeShareLink(); }} data-testid="share-model">Share this model</button>
        <button type="button" disabled={!hasModel} onClick={() => void saveProject(withImages && hasCustom)} data-testid="save-project">Save project</button>
        <label className="filepick-button">
          Open project <input type="file" className="visually-hidden" accept=".json,application/json" data-testid="project-input"
            onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void openProjectFile(f); }} />
        </label>
      </div>
      {hasCustom && (
        <label className="notice-quiet share-keep-images">
          <input type="checkbox" checked={withImages} onChange={(e) => setWithImages(e.target.checked)} /> Keep my classes’ images in the project file (to retrain them later)
        </label>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {share && (
        <div className="share-result" data-testid="share-result">
          <label htmlFor="share-link">Link to this model ({share.link.length.toLocaleString('en-US')} characters)</label>
          <div className="share-link-row">
            <input id="share-link" readOnly value={share.link} onFocus={(e) => e.target.select()} data-testid="share-link" />
            <button type="button" onClick={() => void copy()}>{copied ? 'Copied' : 'Copy'}</button>
            {canShareSheet && (
              <button type="button" onClick={() => void navigator.share({ title: 'A PoE Studio model', url: share.link }).catch(() => undefined)}>Share…</button>
            )}
            <button type="button" onClick={closeShare} aria-label="Close the link">×</button>
          </div>
          {share.qr && <img className="share-qr" src={share.qr} alt="QR code of the link, to open the model on a phone" data-testid="share-qr" />}
          {share.qrNote && <p className="notice" data-testid="share-qr-note">{share.qrNote}</p>}
        </div>
      )}
    </section>
  );
}
