#!/usr/bin/env bash
# Builds the Graylog GELF oracle (test/oracle: graylog2-server's GelfDecoder behind a line protocol)
# with Maven into the cache, keyed by a hash of its sources. Prints the Java classpath on stdout.
source "$(dirname "$0")/common.sh"

build_oracle() {
  local sources; sources="$(cd "$(dirname "$0")/../../oracle" && pwd)"
  local key; key=$(cat "$sources/pom.xml" "$sources"/src/main/java/org/graylog2/plugin/*.java | sha256sum | cut -c1-16)
  out="$GRAYBRIDGE_CACHE/oracle/$key"
  [ -f "$out/classpath.txt" ] && return 0
  log "building the Graylog GELF oracle (graylog2-server 6.3.7 and its decoder's dependencies from Maven Central)"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  cp -r "$sources/pom.xml" "$sources/src" "$out.tmp/"
  (
    cd "$out.tmp"
    mvn -q -B -Dmaven.repo.local="$GRAYBRIDGE_CACHE/maven" package dependency:build-classpath \
      -Dmdep.outputFile=deps.txt >&2
    printf '%s:%s\n' "$out/target/gelf-oracle-1.jar" "$(cat deps.txt)" > classpath.txt
  )
  rm -rf "$out"; mv "$out.tmp" "$out"
}

with_lock oracle build_oracle
cat "$out/classpath.txt"
