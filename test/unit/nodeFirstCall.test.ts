import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_POOL_DIR, REPO_ROOT } from './helpers';

describe('openPool in a fresh Node process', () => {
  it('works as the first call, starting wasm and saying so', () => {
    const r = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['test/fixtures/open-first.ts', FIXTURE_POOL_DIR], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.classes).toBe(5);
    expect(out.notices).toEqual([expect.stringContaining('No TensorFlow.js backend was chosen, so openPool started wasm')]);
  });
});
