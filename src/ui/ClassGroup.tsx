import { useEffect, useRef } from 'react';
import type { ClassThumbs } from '../io/classThumbs';
import { useAppStore } from '../store';
import { ClassThumb } from './ClassThumb';

interface Props {
  task: string;
  classes: string[];
  open: boolean;
  setOpen: (task: string, open: boolean) => void;
  thumbs: ClassThumbs | null;
}

/** One superclass: its checkbox, a button that shows or hides its classes, and the classes. */
export function ClassGroup({ task, classes, open, setOpen, thumbs }: Props) {
  const selected = useAppStore((s) => s.selected);
  const toggleName = useAppStore((s) => s.toggleName);
  const toggleClass = useAppStore((s) => s.toggleClass);
  const whole = selected.includes(task);
  const picked = whole ? classes.length : classes.filter((c) => selected.includes(c)).length;
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (box.current) box.current.indeterminate = picked > 0 && !whole;
  }, [picked, whole]);
  const name = task.replaceAll('_', ' ');
  const listId = `classes-${task.replace(/[^A-Za-z0-9_-]/g, '_')}`; // an id has no spaces (aria-controls is a list of ids)
  return (
    <li data-group={task}>
      <div className="task-row">
        <label className="task">
          <input ref={box} type="checkbox" checked={whole} onChange={() => toggleName(task)} data-task={task} />
          <ClassThumb thumbs={thumbs} name={classes[0]} />
          <span className="task-name">{name}</span>
          {picked > 0 && <span className="task-count">{picked}/{classes.length}</span>}
        </label>
        <button type="button" className="expand" aria-expanded={open} aria-controls={listId} aria-label={`${open ? 'Hide' : 'Show'} the classes of ${name}`}
          onClick={() => setOpen(task, !open)}>
          <span aria-hidden="true">{open ? '▾' : '▸'}</span>
        </button>
      </div>
      <div className="classes" id={listId} hidden={!open}>
        {classes.map((c) => {
          const on = whole || selected.includes(c);
          return (
            <label key={c} className={on ? 'on' : ''}>
              <input type="checkbox" checked={on} onChange={() => toggleClass(c, task)} data-class={c} />
              <ClassThumb thumbs={thumbs} name={c} />
              <span>{c.replaceAll('_', ' ')}</span>
            </label>
          );
        })}
      </div>
    </li>
  );
}
