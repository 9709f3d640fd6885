#!/usr/bin/env bash
# Builds wmscope and runs its demo: a Workerman stand-in on loopback, bounded traffic, and the
# agent printing every connection it sees. Needs root (BPF).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages
find_jdk25
[ "$(id -u)" -eq 0 ] || die "the demo loads BPF programs: run it as root (sudo $0)"
mvn -B -ntp -q -DskipTests package
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar agent/target/wmscope.jar demo "$@"
