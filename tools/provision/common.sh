# Sourced by the provisioning scripts: messages on stderr named after the script, and a
# liveness test for daemons.
say() { echo "${0##*/}: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# A zombie still passes `kill -0`; PID 1 of this VM reaps orphans late, so check the state.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s#Z}" = "$s" ]; }
