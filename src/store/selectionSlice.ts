import type { StateCreator } from 'zustand';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface SelectionSlice {
  /** Selected names: whole superclasses (expert names) and/or single classes. Persisted. */
  selected: string[];
  filter: string;
  toggleName: (name: string) => void;
  /** Selects a single class; if its whole superclass was selected, the other classes stay selected. */
  toggleClass: (cls: string, task: string) => void;
  selectAll: () => void;
  clearSelection: () => void;
  setFilter: (filter: string) => void;
  dropUnknownSelection: () => void;
}

export const createSelectionSlice = (engine: EngineHandles): StateCreator<AppState, [], [], SelectionSlice> => (set, get) => {
  const update = (selected: string[]) => {
    set({ selected });
    void get().buildModel();
  };
  return {
    selected: [],
    filter: '',
    toggleName: (name) => {
      const { selected, manifest } = get();
      const classesOf = new Set(manifest?.classes.filter((c) => c.task === name).map((c) => c.name));
      update(selected.includes(name) ? selected.filter((n) => n !== name) : [...selected.filter((n) => !classesOf.has(n)), name]);
    },
    toggleClass: (cls, task) => {
      const { selected, manifest } = get();
      if (selected.includes(task)) {
        const siblings = manifest!.classes.filter((c) => c.task === task && c.name !== cls).map((c) => c.name);
        update([...selected.filter((n) => n !== task), ...siblings]);
      } else {
        const next = selected.includes(cls) ? selected.filter((n) => n !== cls) : [...selected, cls];
        const all = manifest!.classes.filter((c) => c.task === task).map((c) => c.name);
        update(all.every((n) => next.includes(n)) ? [...next.filter((n) => !all.includes(n)), task] : next);
      }
    },
    selectAll: () => update(get().manifest?.experts.map((e) => e.name) ?? []),
    clearSelection: () => update([]),
    setFilter: (filter) => set({ filter }),
    dropUnknownSelection: () => {
      const m = get().manifest;
      if (!m) return;
      const known = new Set([...m.experts.map((e) => e.name), ...m.classes.map((c) => c.name), ...(engine.pool?.customClasses.keys() ?? [])]);
      set({ selected: get().selected.filter((n) => known.has(n)) });
    },
  };
};
