#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into the cache (once per version).
# kube-apiserver cannot be `go install`ed: k8s.io/kubernetes pins its staging modules at v0.0.0
# with `replace => ./staging/...`. A throwaway module replaces each with its published v0.N.M.
source "$(dirname "$0")/common.sh"

# Only the two binary paths go to stdout; everything else goes to stderr.
build_apiserver() {
  # -r2: stamped with its version (an unstamped build says v0.0.0-master to clients and doctor).
  local out="$GRAYBRIDGE_CACHE/kubernetes/v$KUBERNETES_VERSION-r2"
  [ -x "$out/kube-apiserver" ] && return 0
  log "building kube-apiserver v$KUBERNETES_VERSION (several minutes on 2 cores)"
  local work; work=$(mktemp -d)
  local minor=${KUBERNETES_VERSION#*.}
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  (
    cd "$work"
    go mod init graybridge.local/kube-build >/dev/null 2>&1
    # Every `k8s.io/X => ./staging/...` replace becomes `k8s.io/X => k8s.io/X v0.<minor>`.
    grep -E '=> \./staging/' "$gomod" | awk -v v="v0.$minor" '{print "replace " $1 " => " $1 " " v}' >>go.mod
    go get "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBERNETES_VERSION" >&2
    mkdir -p "$out.tmp"
    local v=k8s.io/component-base/version
    go build -trimpath -o "$out.tmp/kube-apiserver" \
      -ldflags "-s -w -X $v.gitVersion=v$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=${minor%%.*} -X $v.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  rm -rf "$work" "$out"; mv "$out.tmp" "$out"
}

build_etcd() {
  local out="$GRAYBRIDGE_CACHE/etcd/v$ETCD_VERSION"
  [ -x "$out/etcd" ] && return 0
  log "building etcd v$ETCD_VERSION"
  local work; work=$(mktemp -d)
  (
    cd "$work"
    go mod init graybridge.local/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
    mkdir -p "$out.tmp"
    go build -trimpath -ldflags '-s -w' -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$work" "$out"; mv "$out.tmp" "$out"
}

with_lock kube build_apiserver
with_lock etcd build_etcd
echo "$GRAYBRIDGE_CACHE/kubernetes/v$KUBERNETES_VERSION-r2/kube-apiserver"
echo "$GRAYBRIDGE_CACHE/etcd/v$ETCD_VERSION/etcd"
