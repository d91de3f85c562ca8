#!/usr/bin/env bash
# Prometheus components for the exporters' tests: Debian's prometheus-node-exporter (textfile
# collector) and prometheus (the server, and promtool). Installs them when missing, or fails
# with the install command. Starts NOTHING: each test starts its own node-exporter and server on
# free loopback ports with its own data folders, and stops them by pid. The packages' own
# system services (postinst) are not this script's business, and tests never talk to them.
# Idempotent. stdout: only `export` lines (so `eval "$(tools/provision/prometheus.sh)"` works):
# the binaries' paths; log on stderr.
set -euo pipefail

PKGS="prometheus-node-exporter prometheus"
INSTALL_CMD="apt-get install -y --no-install-recommends $PKGS"

. "$(dirname "$0")/common.sh"

# --no-install-recommends: the recommends (prometheus' web console libraries, smartmontools,
# moreutils for the node-exporter's helper scripts) are not used by the tests.
bash "$(dirname "$0")/system.sh" $PKGS || die "missing packages; as root on Debian run: apt-get update && $INSTALL_CMD"

# Debian names the exporter's binary after its package; promtool comes with the server.
NODE_EXPORTER=$(command -v prometheus-node-exporter || true)
PROMETHEUS=$(command -v prometheus || true)
PROMTOOL=$(command -v promtool || true)
[ -n "$NODE_EXPORTER" ] && [ -n "$PROMETHEUS" ] && [ -n "$PROMTOOL" ] \
  || die "prometheus-node-exporter, prometheus or promtool is not on PATH after installing; run: $INSTALL_CMD"
say "ready: $("$NODE_EXPORTER" --version 2>&1 | head -1); $("$PROMETHEUS" --version 2>&1 | head -1)"
echo "export PASSTHRU_NODE_EXPORTER=$NODE_EXPORTER"
echo "export PASSTHRU_PROMETHEUS=$PROMETHEUS"
echo "export PASSTHRU_PROMTOOL=$PROMTOOL"
