#!/usr/bin/env bash
# Every test: Python (pool builder), TypeScript unit tests in Node, and real-browser tests in Chromium,
# with the cross-engine suite (test/e2e/engines) in Firefox ESR and WebKitGTK too.
# Runs all suites even when one fails; ends with one "N passed, N failed" line and a non-zero status on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test/.tmp
status=0

bash scripts/preflight.sh || exit 1

# The typecheck (one thread) runs beside pytest; its output is shown after pytest's.
npx tsc --noEmit > test/.tmp/tsc.log 2>&1 &
tsc_pid=$!

echo "== Python: pool builder (pytest)"
/usr/bin/python3 -m pytest -q experts/tests -p no:cacheprovider 2>&1 | tee test/.tmp/pytest.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== TypeScript: typecheck"
wait "$tsc_pid" || status=1
cat test/.tmp/tsc.log

echo "== TypeScript unit tests (vitest, Node)"
npx vitest run --reporter=default --reporter=json --outputFile.json=test/.tmp/unit.json || status=1

echo "== Browser tests (vitest; Chromium through Playwright, Firefox ESR through Puppeteer, WebKitGTK through WebDriver)"
npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json=test/.tmp/e2e.json || status=1

node scripts/summarize-tests.mjs test/.tmp/pytest.log test/.tmp/unit.json test/.tmp/e2e.json || status=1
exit $status
