import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_POOL_DIR, REPO_ROOT } from './helpers';

const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const evaluate = (args: string[]) => {
  const r = spawnSync(tsx, [path.join(REPO_ROOT, 'cli', 'evaluate.ts'), '--pool', FIXTURE_POOL_DIR, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('npm run evaluate -- --custom', () => {
  it('trains a held-out class as the user’s and reports recall, others’ top-1 before and after, time and the baseline', () => {
    const r = evaluate(['--query', 'people', '--custom', 'cup', '--shots', '10', '--negatives-per-class', '3', '--steps', '10', '--calibration', 'none,joint', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ['newClassRecall', 'othersTop1Before', 'othersTop1After', 'trainSeconds']) expect(j[k]).toBeTypeOf('number');
    for (const k of ['newClassRecall', 'othersTop1', 'trainSeconds']) expect(j.baseline[k]).toBeTypeOf('number');
    expect(j.calibrations.map((c: { calibration: string }) => c.calibration)).toEqual(['none', 'joint']);
    expect(j.calibration).toBe('joint');
    expect(j.reportImages).toEqual({ others: 500, mine: 100 });
    expect(j.negatives).toBe(12 * 3); // every fixture class but cup, from the training split
    expect(j.reportSplit).toBe('test');
  });

  it.each([
    [['--query', 'people,cup', '--custom', 'cup'], /--custom cup is in the query/],
    [['--query', 'people', '--custom', 'dragon'], /--custom must name a CIFAR-100 class/],
    [['--query', 'people', '--custom', 'cup', '--calibration', 'magic'], /--calibration takes none, stats and\/or joint/],
    [['--query', 'people', '--custom', 'cup', '--report-split', 'train'], /--report-split must be test or val/],
  ])('fails with a clear message: %j', (args, message) => {
    const r = evaluate(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
  });
});
