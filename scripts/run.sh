#!/usr/bin/env bash
# Runs one of the project's compiled entry points on the pinned Node 24, bootstrapping first, so
# `npm test` and `npm run demo` work on a fresh clone. Usage: run.sh <file.js under root> [args…]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh" >&2
entry="$1"; shift
exec node "$root/$entry" "$@"
