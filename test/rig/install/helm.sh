#!/usr/bin/env bash
# Builds helm from the Go module proxy into the cache (once per version).
source "$(dirname "$0")/common.sh"

build_helm() {
  local out="$GRAYBRIDGE_CACHE/helm/v$HELM_VERSION"
  [ -x "$out/helm" ] && return 0
  log "building helm v$HELM_VERSION"
  local major=${HELM_VERSION%%.*}
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install \
    -ldflags "-s -w -X helm.sh/helm/v$major/internal/version.version=v$HELM_VERSION" \
    "helm.sh/helm/v$major/cmd/helm@v$HELM_VERSION" >&2
  rm -rf "$out"; mv "$out.tmp" "$out"
}

with_lock helm build_helm
echo "$GRAYBRIDGE_CACHE/helm/v$HELM_VERSION/helm"
