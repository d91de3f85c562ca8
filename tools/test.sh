#!/usr/bin/env bash
# The whole test suite, as the README's Quick start and CI run it: provisions the system
# packages and services the suites need, installs and builds the workspace, runs every vitest
# project, and ends with one line "Tests: N passed, N failed" taken from vitest's JSON report
# (the run's figures go to tmp/test-summary.json: `node tools/test-summary.mjs --readme` puts them in the README).
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
started=$(date +%s)

bash tools/provision/system.sh pciutils libvirt-clients chromium kmod libicu72 patch   # kmod: modprobe -C checks persist's file; libicu72: the SARIF validator (.NET); patch: GNU patch applies the diffs passthru shows
command -v lspci >/dev/null || { echo "passthru tests: lspci is missing: apt-get install -y pciutils" >&2; exit 1; }

bash tools/install.sh
# Lint and format (Biome): a finding fails the run before any test starts.
npx biome check .
npm run --silent build
bash tools/provision/docker.sh   # Docker engine + base image for the e2e project (tools/e2e)

mkdir -p tmp
report=tmp/vitest-report.json
rm -f "$report" tmp/kernel-lab/timing.json tmp/e2e/summary.json   # figures of an earlier run must not pass for this one's
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node tools/test-summary.mjs "$report" --started "$started" || status=1   # also writes tmp/test-summary.json
exit $status
