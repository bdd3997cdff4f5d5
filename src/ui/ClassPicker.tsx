import { useMemo } from 'react';
import type { PoolManifest } from '../ml/poolManifest';
import { useAppStore } from '../store';

export function ClassPicker() {
  const manifest = useAppStore((s) => s.manifest);
  const selected = useAppStore((s) => s.selected);
  const filter = useAppStore((s) => s.filter);
  const { toggleName, toggleClass, selectAll, clearSelection, setFilter } = useAppStore((s) => s);
  const groups = useMemo(() => {
    if (!manifest) return [];
    const f = filter.trim().toLowerCase();
    return manifest.experts
      .map((e) => ({ task: e.name, classes: manifest.classes.filter((c) => c.task === e.name).map((c) => c.name) }))
      .filter((g) => !f || g.task.toLowerCase().includes(f) || g.classes.some((c) => c.toLowerCase().includes(f)));
  }, [manifest, filter]);
  if (!manifest) return <section className="panel picker" aria-label="Classes"><h2>Classes</h2><p>Waiting for the pool…</p></section>;
  const isOn = (task: string, cls: string) => selected.includes(task) || selected.includes(cls);
  return (
    <section className="panel picker" aria-label="Classes">
      <h2>Classes</h2>
      <div className="picker-tools">
        <input type="search" placeholder="Filter classes…" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter classes" />
        <button type="button" onClick={selectAll}>Select all</button>
        <button type="button" onClick={clearSelection}>Clear</button>
      </div>
      <p className="picker-count" data-testid="picker-count">{countLine(manifest, selected)}</p>
      {groups.length === 0 && <p>No class or superclass matches “{filter}”.</p>}
      <ul className="groups">
        {groups.map((g) => (
          <li key={g.task}>
            <label className="task">
              <input type="checkbox" checked={selected.includes(g.task)} onChange={() => toggleName(g.task)} data-task={g.task} />
              {g.task.replaceAll('_', ' ')}
            </label>
            <div className="classes">
              {g.classes.map((c) => (
                <label key={c} className={isOn(g.task, c) ? 'on' : ''}>
                  <input type="checkbox" checked={isOn(g.task, c)} onChange={() => toggleClass(c, g.task)} data-class={c} />
                  {c.replaceAll('_', ' ')}
                </label>
              ))}
            </div>
          </li>
        ))}
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
