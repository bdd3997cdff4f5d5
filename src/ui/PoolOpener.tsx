import { useEffect, useState, type FormEvent } from 'react';
import { useAppStore } from '../store';
import { ProgressBar } from './ProgressBar';

const isZip = (f: File) => /\.zip$/i.test(f.name) || f.type === 'application/zip' || f.type === 'application/x-zip-compressed';
const folderPicker = { webkitdirectory: '', directory: '' } as Record<string, string>;

/** "Open another pool": by address, folder or zip (also a zip dropped anywhere on the page), and the storage answer. */
export function PoolOpener() {
  const origin = useAppStore((s) => s.poolOrigin);
  const status = useAppStore((s) => s.poolOpenStatus);
  const progress = useAppStore((s) => s.poolOpenProgress);
  const error = useAppStore((s) => s.poolOpenError);
  const persisted = useAppStore((s) => s.storagePersisted);
  const openUrl = useAppStore((s) => s.openPoolFromUrl);
  const openZip = useAppStore((s) => s.openPoolFromZip);
  const openFolder = useAppStore((s) => s.openPoolFromFolder);
  const [url, setUrl] = useState('');

  useEffect(() => {
    // A pool zip dropped anywhere the page does not handle drops itself (the image drop zone does).
    const over = (e: DragEvent) => e.dataTransfer?.types.includes('Files') && !e.defaultPrevented && e.preventDefault();
    const drop = (e: DragEvent) => {
      if (e.defaultPrevented || !e.dataTransfer?.files.length) return;
      e.preventDefault(); // never let a dropped file replace the page
      const zip = [...e.dataTransfer.files].find(isZip);
      if (zip) void openZip(zip);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, [openZip]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (url.trim()) void openUrl(url);
  };
  return (
    <div className="pool-open" data-testid="pool-open" data-status={status}>
      {origin && <p className="notice-quiet" data-testid="pool-origin">Opened from {origin}.</p>}
      {persisted !== null && (
        <p className="notice-quiet" data-testid="storage-persisted" data-persisted={String(persisted)}>
          {persisted
            ? 'Storage: persistent. The browser keeps the cached pool until you clear this site’s data.'
            : 'Storage: best effort. The browser may clear the cached pool when space runs low; it is then downloaded again.'}
        </p>
      )}
      <details>
        <summary>Open another pool</summary>
        <form onSubmit={submit} className="pool-open-url">
          <label htmlFor="pool-url">Address of a folder holding pool.json</label>
          <input id="pool-url" type="url" inputMode="url" placeholder="https://example.org/pools/mine/" value={url} onChange={(e) => setUrl(e.target.value)} />
          <button type="submit" disabled={status === 'opening'}>Open</button>
        </form>
        <p className="pool-open-files">
          <label>A pool folder <input type="file" data-testid="pool-folder-input" {...folderPicker} onChange={(e) => e.target.files?.length && void openFolder([...e.target.files])} /></label>{' '}
          <label>A pool zip <input type="file" accept=".zip,application/zip" data-testid="pool-zip-input" onChange={(e) => e.target.files?.[0] && void openZip(e.target.files[0])} /></label>
        </p>
        <p className="notice-quiet">Or drop a pool zip on the page. Every file is checked before the new pool replaces the one in use (limits: 100 MB, 1,000 files, 256 experts).</p>
      </details>
      {status === 'opening' && progress.map((p) => <ProgressBar key={p.path} label={p.path} value={p.loaded} max={p.total} />)}
      {error && <p className="error" role="alert" data-testid="pool-open-error" data-code={error.code}>{error.message}</p>}
    </div>
  );
}
