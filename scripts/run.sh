#!/usr/bin/env bash
# Runs one of the project's compiled entry points on the pinned Node 24, bootstrapping first, so
# `npm test` and `npm run demo` work on a fresh clone. Usage: run.sh [node flags…] <file.js under root> [args…]
# The demo and the rig CLI pass --disable-warning=TimeoutNegativeWarning: the rig's kafkajs 2.2.4
# schedules a timer at a negative delay (tulios/kafkajs#1751). The SDK clamps it for apps
# (packages/log-sdk/src/kafkajs-patch.ts); the rig cannot import the SDK, whose tests import the rig.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh" >&2
node_flags=()
while [[ "${1:-}" == --* ]]; do node_flags+=("$1"); shift; done
entry="$1"; shift
exec node ${node_flags[@]+"${node_flags[@]}"} "$root/$entry" "$@"
