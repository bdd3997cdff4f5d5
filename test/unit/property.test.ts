import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// node itself (not the tsx wrapper), so the process the watchdog stops is the one spawned here.
const run = (env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'test/unit/fixtures/hangingProperty.ts'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('property tests that hang', () => {
  it('print their seed first, and a case past its limit stops the process with the seed, path and input, which replay it', () => {
    const first = run();
    expect(first.signal).toBe('SIGKILL');
    expect(first.stdout).not.toContain('finished');
    expect(first.stderr).toMatch(/^property "hangs on 7": seed 5, 1000 runs$/m);
    expect(first.stderr).toMatch(/case \d+ has run 1 s, past its 1 s limit; stopping the process\.\n {2}input: 7\n/);
    const replay = /replay: (FUZZ_SEED=5 FUZZ_PATH=(\d+))/.exec(first.stderr);
    expect(replay).not.toBeNull();

    const again = run({ FUZZ_SEED: '5', FUZZ_PATH: replay![2] });
    expect(again.signal).toBe('SIGKILL');
    expect(again.stderr).toContain(`seed 5, path ${replay![2]}`);
    expect(again.stderr).toContain('input: 7\n');
    expect(again.stderr).toContain(replay![1]);
  }, 120_000);
});
