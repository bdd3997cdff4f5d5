import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  parent: number;
  /** user + system CPU, in clock ticks (USER_HZ). */
  busyTicks: number;
  rssBytes: number;
}

const PAGE = 4096;

/** Every process /proc shows now, by pid (Linux). */
export function processTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(d), { parent: Number(f[1]), busyTicks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * PAGE });
    } catch { /* exited meanwhile */ }
  }
  return table;
}

/** Whether pid is root or below it, and not inside any of the `skip` subtrees. */
export function inTree(table: Map<number, ProcessInfo>, pid: number, root: number, skip: Set<number> = new Set()): boolean {
  for (let p = pid; p > 0; p = table.get(p)?.parent ?? 0) {
    if (skip.has(p)) return false;
    if (p === root) return true;
  }
  return false;
}
