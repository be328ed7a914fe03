#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, lints, type-checks and runs the
# whole suite. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund
npm run build
if [ -n "${CI:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  # The build regenerates oclif.manifest.json and the README's command reference: both must be committed current.
  git diff --exit-code -- oclif.manifest.json README.md || { echo "oclif.manifest.json or README.md is stale: run npm run build and commit" >&2; exit 1; }
fi
npm run lint
npm run typecheck
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
rc=$?
set -e
# A plain closing line that any CI log reader understands.
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$report" || true
exit $rc
