import type { KeyboardEvent } from 'react';

/**
 * Arrow keys in the class list: up and down move between the visible checkboxes, right opens the
 * superclass under focus, left closes it (focus goes back to the superclass), Home and End jump.
 */
export function onPickerKey(e: KeyboardEvent<HTMLElement>, setOpen: (task: string, open: boolean) => void): void {
  const target = e.target as HTMLElement;
  const group = target.closest<HTMLElement>('[data-group]')?.dataset.group;
  if (!(target instanceof HTMLInputElement) || target.type !== 'checkbox' || !group) return;
  const boxes = [...e.currentTarget.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].filter((b) => !b.closest('[hidden]'));
  const at = boxes.indexOf(target);
  const focus = (el: HTMLElement | undefined) => {
    e.preventDefault();
    el?.focus();
  };
  if (e.key === 'ArrowDown') focus(boxes[at + 1]);
  else if (e.key === 'ArrowUp') focus(boxes[at - 1]);
  else if (e.key === 'Home') focus(boxes[0]);
  else if (e.key === 'End') focus(boxes[boxes.length - 1]);
  else if (e.key === 'ArrowRight' && target.dataset.task) {
    e.preventDefault();
    setOpen(group, true);
  } else if (e.key === 'ArrowLeft') {
    e.preventDefault();
    setOpen(group, false);
    e.currentTarget.querySelector<HTMLInputElement>(`input[data-task="${group}"]`)?.focus();
  }
}
