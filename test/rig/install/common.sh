# Shared by the install scripts: pinned versions and the cache outside the repo.
# Sourced, not run.
set -euo pipefail

# Everything heavy lives here, keyed by version, so a second run is a cache hit.
GRAYBRIDGE_CACHE="${GRAYBRIDGE_CACHE:-$HOME/.cache/graybridge}"
mkdir -p "$GRAYBRIDGE_CACHE"

# Pinned versions: change here only (docs/testing.md lists them).
NODE24_VERSION=24.21.0
NODE20_VERSION=20.20.2
KAFKA_VERSION=4.4.0
KUBERNETES_VERSION=1.36.3
ETCD_VERSION=3.6.16
HELM_VERSION=4.3.1

log() { printf '[rig-install] %s\n' "$*" >&2; }

# Runs "$@" with a lock on $1's directory so parallel installs do not race.
with_lock() {
  local name=$1; shift
  mkdir -p "$GRAYBRIDGE_CACHE/locks"
  exec {lockfd}>"$GRAYBRIDGE_CACHE/locks/$name.lock"
  flock "$lockfd"
  "$@"
  flock -u "$lockfd"
}
