import { execFileSync } from 'node:child_process';
import { FIXTURE_POOL_DIR, REPO_ROOT } from './helpers';

/** Builds the random-weight fixture pool with the Python exporter, so every run tests the real contract. */
export default function setup(): void {
  execFileSync('/usr/bin/python3', ['experts/tools/make_fixture_pool.py', '--out', FIXTURE_POOL_DIR], { cwd: REPO_ROOT, stdio: 'inherit' });
}
