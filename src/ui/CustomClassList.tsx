import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../store';
import type { CustomClassInfo } from '../store/customSlice';
import { TOUCH } from './touch';

/** The user's own classes: tick to use, rename, retrain with the images collected above, remove; export and import. */
export function CustomClassList() {
  const classes = useAppStore((s) => s.customClasses);
  const exportCustom = useAppStore((s) => s.exportCustom);
  const importCustom = useAppStore((s) => s.importCustom);
  return (
    <div className="custom-list">
      <h3>Your classes</h3>
      {classes.length === 0 ? <p>None yet.</p> : (
        <ul data-testid="custom-list">{classes.map((c) => <CustomClassRow key={c.id} c={c} />)}</ul>
      )}
      <button type="button" disabled={classes.length === 0} onClick={exportCustom} data-testid="custom-export">Export…</button>{' '}
      <label className="filepick">Import…<input type="file" accept="application/json,.json" hidden data-testid="custom-import"
        onChange={(e) => { const f = e.target.files?.[0]; if (f) void importCustom(f); e.target.value = ''; }} /></label>
    </div>
  );
}

function CustomClassRow({ c }: { c: CustomClassInfo }) {
  const [selected, draftCount, busy] = useAppStore(useShallow((s) => [s.selected.includes(c.id), s.customDraft.length, s.customBusy !== null]));
  const toggle = useAppStore((s) => s.toggleName);
  const rename = useAppStore((s) => s.renameCustom);
  const retrain = useAppStore((s) => s.trainCustom);
  const remove = useAppStore((s) => s.removeCustom);
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <li data-custom={c.label}>
      <label style={{ ...TOUCH, display: 'inline-flex', alignItems: 'center', gap: 4 }}>
        <input type="checkbox" checked={selected} onChange={() => toggle(c.id)} /> {c.label}
      </label>{' '}
      <span className="custom-meta">{c.shots} images, trained in {(c.trainMs / 1000).toFixed(1)} s</span>{' '}
      {editing === null ? (
        <button type="button" onClick={() => setEditing(c.label)} disabled={busy}>Rename</button>
      ) : (
        <form style={{ display: 'inline' }} onSubmit={(e) => { e.preventDefault(); void rename(c.id, editing); setEditing(null); }}>
          <input aria-label={`New name for ${c.label}`} value={editing} onChange={(e) => setEditing(e.target.value)} maxLength={40} style={TOUCH} />
          <button type="submit">Save</button>
        </form>
      )}{' '}
      <button type="button" disabled={busy || draftCount === 0} onClick={() => void retrain(c.label, c.id)}
        title="Retrain on its images plus the ones collected above">Retrain (+{draftCount})</button>{' '}
      <button type="button" disabled={busy} onClick={() => void remove(c.id)}>Remove</button>
    </li>
  );
}
