#!/usr/bin/env bash
# Resolves Apache Kafka's broker jars (plus a Log4j2 SLF4J provider) from Maven Central into the
# cache with Maven, no tarball. Prints the directory to put on the classpath as '<dir>/*'.
source "$(dirname "$0")/common.sh"

LOG4J_VERSION=2.24.3

resolve_kafka() {
  local out="$GRAYBRIDGE_CACHE/kafka/$KAFKA_VERSION/libs"
  [ -f "$out/.complete" ] && return 0
  log "resolving kafka_2.13:$KAFKA_VERSION from Maven Central"
  local work; work=$(mktemp -d)
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.graybridge</groupId><artifactId>kafka-jars</artifactId><version>0</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka 4 logs through SLF4J; without a provider the broker is silent about failures. -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$out"; mkdir -p "$out"
  mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out"
  rm -rf "$work"
  touch "$out/.complete"
}

with_lock kafka resolve_kafka
echo "$GRAYBRIDGE_CACHE/kafka/$KAFKA_VERSION/libs"
