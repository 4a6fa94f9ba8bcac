#!/usr/bin/env bash
# Debian packages the rig and tests use: redis-server, kcat (independent Kafka client); rsyslog
# with its Kafka input and Kubernetes metadata modules (a peer in the forwarder benchmark); gnuplot
# for the soak benchmark's plot.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v kcat >/dev/null || need+=(kcat)
command -v flock >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/bin/time ] || need+=(time) # peak RSS of peers in benchmarks
command -v gnuplot >/dev/null || need+=(gnuplot-nox) # the soak benchmark's memory plot (PNG)
command -v rsyslogd >/dev/null || [ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
compgen -G '/usr/lib/*/rsyslog/imkafka.so' >/dev/null || need+=(rsyslog-kafka)
compgen -G '/usr/lib/*/rsyslog/mmkubernetes.so' >/dev/null || need+=(rsyslog-kubernetes)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
