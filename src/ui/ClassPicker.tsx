import { useMemo } from 'react';
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
