#!/usr/bin/env bash
# `npm test`: every check CI runs, in order, stopping at the first failure
# (docs/operations.md). Real InfluxDB, Mosquitto and Chromium come from Debian
# packages; the jest global setup starts its own servers on free ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NX_DAEMON=false

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages (influxdb, mosquitto, chromium, openssl)"
node deploy/lib/packages.cjs influxdb mosquitto chromium openssl

if [ ! -d node_modules ]; then
  step "npm ci (node_modules is missing)"
  npm ci
fi

# @nx/enforce-module-boundaries reads the cached project graph and silently
# skips itself when there is none (fresh clone, no daemon): compute it first.
step "Nx project graph"
npx nx show projects >/dev/null

step "lint: eslint ."
npx eslint .

step "typecheck: every project (npm run typecheck)"
npm run --silent typecheck

results="test-artifacts/results"
rm -rf "$results" && mkdir -p "$results"

step "unit tests"
npx jest --selectProjects unit --json --outputFile="$results/unit.json"

step "integration tests (real InfluxDB and MQTT brokers)"
npx jest --selectProjects integration --runInBand --json --outputFile="$results/integration.json"

step "browser tests (real Chromium)"
npx jest --selectProjects browser --runInBand --json --outputFile="$results/browser.json"

# One closing line over the three jest runs.
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`\nnpm test: lint, typecheck and every suite done in ${process.argv[2]}s`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results" "$SECONDS"
