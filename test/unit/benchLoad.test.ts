import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { withForeignLoad } from '../../bench/load';

describe('the bench\'s foreign-load meter', () => {
  it('sees a busy process outside its own process tree', async () => {
    // sh starts the busy loop in the background and exits: the loop is re-parented, outside this tree.
    execFileSync('sh', ['-c', "timeout 2 sh -c 'while :; do :; done' >/dev/null 2>&1 &"]);
    const { foreignCores } = await withForeignLoad(() => new Promise((r) => setTimeout(r, 1200)));
    expect(foreignCores).toBeGreaterThan(0.5);
  });
});
