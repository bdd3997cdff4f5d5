import { useAppStore } from '../store';

/** What is picked, one removable chip per superclass or single class. */
export function SelectionChips() {
  const manifest = useAppStore((s) => s.manifest);
  const selected = useAppStore((s) => s.selected);
  const toggleName = useAppStore((s) => s.toggleName);
  const toggleClass = useAppStore((s) => s.toggleClass);
  const custom = useAppStore((s) => s.customClasses);
  if (!manifest || selected.length === 0) return null;
  const taskOf = new Map(manifest.classes.map((c) => [c.name, c.task]));
  const size = (task: string) => manifest.classes.filter((c) => c.task === task).length;
  return (
    <ul className="chips" aria-label="Selected">
      {selected.map((n) => {
        const mine = custom.find((c) => c.id === n); // a class the user trained
        const task = taskOf.get(n);
        const label = mine ? mine.label : n.replaceAll('_', ' ');
        return (
          <li key={n}>
            <button type="button" className={task || mine ? 'chip' : 'chip whole'} data-chip={n} aria-label={`Remove ${label}`}
              onClick={() => (task ? toggleClass(n, task) : toggleName(n))}>
              {label}{!task && !mine && <span className="chip-size"> ({size(n)})</span>} <span aria-hidden="true">×</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
