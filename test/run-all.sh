#!/usr/bin/env bash
# `npm test`: every check CI runs, in order, stopping at the first failure
# (docs/operations.md). Real InfluxDB, Mosquitto and Chromium come from Debian
# packages; the jest global setup starts its own servers on free ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NX_DAEMON=false

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages (influxdb, mosquitto, chromium)"
node deploy/lib/packages.cjs influxdb mosquitto chromium

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

step "typecheck: tsc -p tsconfig.check.json"
npx tsc -p tsconfig.check.json

step "unit tests"
npx jest --selectProjects unit

step "integration tests (real InfluxDB and MQTT brokers)"
npx jest --selectProjects integration --runInBand

step "browser tests (real Chromium)"
npx jest --selectProjects browser --runInBand --passWithNoTests

printf '\nnpm test: all checks passed (lint, typecheck, unit, integration, browser) in %ss\n' "$SECONDS"
