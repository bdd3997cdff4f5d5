import { readFileSync } from 'node:fs';
import { inTree, processTable } from '../harness/procs';

/** Clock ticks per second in /proc (USER_HZ; 100 on Linux everywhere in practice). */
const HZ = 100;

/** Busy ticks of the whole machine, from /proc/stat's cpu line (all but idle and iowait). */
function systemBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0);
}

/** Busy ticks (user + system) of `root` and every process below it. */
function treeBusy(root: number): number {
  const table = processTable();
  let total = 0;
  for (const [pid, p] of table) if (inTree(table, pid, root)) total += p.busyTicks;
  return total;
}

/**
 * Measures the CPU that processes outside this one's tree (the bench, its browsers and its PyTorch
 * peer) use while `work` runs: in cores, averaged over the work's wall time. Anything else running on
 * the machine shows here, and a block measured beside it can be dropped.
 */
export async function withForeignLoad<T>(work: () => Promise<T>): Promise<{ result: T; foreignCores: number }> {
  const s0 = systemBusy();
  const o0 = treeBusy(process.pid);
  const t0 = performance.now();
  const result = await work();
  const seconds = (performance.now() - t0) / 1000;
  const foreign = (systemBusy() - s0 - (treeBusy(process.pid) - o0)) / HZ;
  return { result, foreignCores: Math.max(0, foreign / seconds) };
}
