#!/usr/bin/env bash
# The whole test suite, as the README's Quick start and CI run it: provisions the system
# packages and services the suites need, installs and builds the workspace, runs every vitest
# project, and ends with one line "Tests: N passed, N failed" taken from vitest's JSON report.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

bash tools/provision/system.sh pciutils libvirt-clients chromium kmod libicu72 patch   # kmod: modprobe -C checks persist's file; libicu72: the SARIF validator (.NET); patch: GNU patch applies the diffs passthru shows
command -v lspci >/dev/null || { echo "passthru tests: lspci is missing: apt-get install -y pciutils" >&2; exit 1; }

bash tools/install.sh
# Lint and format (Biome): a finding fails the run before any test starts.
npx biome check .
npm run --silent build
bash tools/provision/docker.sh   # Docker engine + base image for the e2e project (tools/e2e)

mkdir -p tmp
report=tmp/vitest-report.json
rm -f "$report"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node tools/test-summary.mjs "$report" || status=1
exit $status
