#!/usr/bin/env bash
# Makes a fresh clone runnable: Debian packages, pinned Node 24 (and 20 for the SDK), npm deps,
# a `tsc -b` build. Idempotent and quick when everything is there. Sourced by scripts/run.sh;
# run alone as `npm run bootstrap`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install="$root/test/rig/install"

bash "$install/debian.sh"
node24_bin="$(bash "$install/node.sh" 24)"
GRAYBRIDGE_NODE20="$(bash "$install/node.sh" 20)/node"
export GRAYBRIDGE_NODE20
export PATH="$node24_bin:$PATH"

cd "$root"
# Reinstall only when the lock file changed since the last install.
stamp="node_modules/.package-lock.stamp"
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npx tsc -b
