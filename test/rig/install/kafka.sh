#!/usr/bin/env bash
# Resolves Apache Kafka's broker jars (plus a Log4j2 SLF4J provider) from Maven Central into the
# cache with Maven, no tarball. Prints the directory to put on the classpath as '<dir>/*'.
source "$(dirname "$0")/common.sh"

LOG4J_VERSION=2.24.3
# Bump when the set of jars changes, so caches of the old set are not reused.
RECIPE=2

resolve_kafka() {
  local out="$GRAYBRIDGE_CACHE/kafka/$KAFKA_VERSION/libs-r$RECIPE"
  [ -f "$out/.complete" ] && return 0
  log "resolving kafka_2.13:$KAFKA_VERSION from Maven Central"
  local work; work=$(mktemp -d)
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.graybridge</groupId><artifactId>kafka-jars</artifactId><version>0</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka logs through the SLF4J 1.7 API (slf4j-api 1.7.36 on its classpath): without this
         binding the broker is silent about failures. -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$out"; mkdir -p "$out"
  # stdout carries only the result path: Maven's output (and its colour codes) go to stderr.
  mvn -q -B -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$out" >&2
  rm -rf "$work"
  touch "$out/.complete"
}

with_lock kafka resolve_kafka
echo "$GRAYBRIDGE_CACHE/kafka/$KAFKA_VERSION/libs-r$RECIPE"
