import { useMemo, useState } from 'react';
import type { PoolManifest } from '../ml/pool/poolManifest';
import { useAppStore } from '../store';
import { ClassGroup } from './ClassGroup';
import { SelectionChips } from './SelectionChips';
import { onPickerKey } from './pickerKeys';
import { useClassThumbs } from './useClassThumbs';

/** Wide screens start with every superclass open; phones start with them closed, to keep the list short. */
const OPEN_BY_DEFAULT_QUERY = '(min-width: 701px)';

export function ClassPicker() {
  const manifest = useAppStore((s) => s.manifest);
  const selected = useAppStore((s) => s.selected);
  const filter = useAppStore((s) => s.filter);
  const setFilter = useAppStore((s) => s.setFilter);
  const selectAll = useAppStore((s) => s.selectAll);
  const clearSelection = useAppStore((s) => s.clearSelection);
  const thumbs = useClassThumbs();
  const [openByDefault] = useState(() => matchMedia(OPEN_BY_DEFAULT_QUERY).matches);
  const [flipped, setFlipped] = useState<ReadonlySet<string>>(new Set());
  const f = filter.trim().toLowerCase();
  const groups = useMemo(() => {
    if (!manifest) return [];
    return manifest.experts
      .map((e) => ({ task: e.name, classes: manifest.classes.filter((c) => c.task === e.name).map((c) => c.name) }))
      .filter((g) => !f || g.task.toLowerCase().includes(f) || g.classes.some((c) => c.toLowerCase().includes(f)));
  }, [manifest, f]);
  if (!manifest) return <section className="panel picker" aria-label="Classes"><h2>Classes</h2><p>Waiting for the pool…</p></section>;
  const isOpen = (g: { task: string; classes: string[] }) =>
    openByDefault !== flipped.has(g.task) || (f !== '' && g.classes.some((c) => c.toLowerCase().includes(f)));
  const setOpen = (task: string, open: boolean) => {
    const next = new Set(flipped);
    if (open === openByDefault) next.delete(task);
    else next.add(task);
    setFlipped(next);
  };
  return (
    <section className="panel picker" aria-label="Classes">
      <h2>Classes</h2>
      <div className="picker-tools">
        <input type="search" placeholder="Filter classes…" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter classes" />
        <button type="button" onClick={selectAll}>Select all</button>
        <button type="button" onClick={clearSelection}>Clear</button>
      </div>
      <p className="picker-count" data-testid="picker-count" aria-live="polite">{countLine(manifest, selected)}</p>
      <SelectionChips />
      {groups.length === 0 && <p>No class or superclass matches “{filter}”.</p>}
      <ul className="groups" aria-label="Superclasses and their classes" onKeyDown={(e) => onPickerKey(e, setOpen)}>
        {groups.map((g) => <ClassGroup key={g.task} task={g.task} classes={g.classes} open={isOpen(g)} setOpen={setOpen} thumbs={thumbs} />)}
      </ul>
    </section>
  );
}

function countLine(m: PoolManifest, selected: string[]): string {
  const classes = new Set<string>();
  const experts = new Set<string>();
  for (const c of m.classes)
    if (selected.includes(c.task) || selected.includes(c.name)) {
      classes.add(c.name);
      experts.add(c.task);
    }
  return `${classes.size} class${classes.size === 1 ? '' : 'es'} selected, using ${experts.size} of ${m.experts.length} experts`;
}
