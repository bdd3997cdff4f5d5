// Adds up the pytest log and vitest JSON reports into one closing line: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

const [pytestLog, ...vitestJson] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const log = existsSync(pytestLog) ? readFileSync(pytestLog, 'utf8') : '';
const last = log.trim().split('\n').pop() ?? '';
passed += Number(/(\d+) passed/.exec(last)?.[1] ?? 0);
failed += Number(/(\d+) failed/.exec(last)?.[1] ?? 0) + Number(/(\d+) error/.exec(last)?.[1] ?? 0);
if (!/passed|failed/.test(last)) failed += 1; // pytest did not finish
for (const f of vitestJson) {
  if (!existsSync(f)) { failed += 1; continue; }
  const r = JSON.parse(readFileSync(f, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A file that failed without a failing test (an import or hook error) still counts once.
  failed += (r.testResults ?? []).filter((t) => t.status === 'failed' && !t.assertionResults?.some((a) => a.status === 'failed')).length;
}
console.log(`\nTests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
