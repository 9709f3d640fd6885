#!/usr/bin/env bash
# JMH benchmarks of the per-event pipeline, in events/s on one core: record decoding, the
# OpenTelemetry bridge, decode + map + bridge, and the ring-buffer read path (a real BPF ring
# buffer filled by a feeder program; needs root).
#
#   bench/jmh.sh [JMH ARGS...]      e.g. bench/jmh.sh Decode   or   bench/jmh.sh -f 2 -i 10
#
# Builds bench/jmh with the Maven profile "bench" (never part of the normal build or CI), runs
# every benchmark (1 fork, 3 x 2 s warm-up, 5 x 2 s measured, as annotated; JMH arguments
# override), and writes bench/results/jmh-DATE.md with the scores and the SDK's span counts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench_packages
find_jdk25
cd "$REPO_DIR"
log "building bench/jmh (mvn -Pbench)"
mvn -q -B -ntp -Pbench -pl bench/jmh -am -DskipTests package
CP=$BENCH_DIR/jmh/target/classes:$(cat "$BENCH_DIR/jmh/target/classpath.txt")
OUT=$BENCH_DIR/jmh/target/jmh
mkdir -p "$OUT" "$RESULTS_DIR"
if [ "$(id -u)" -ne 0 ]; then
  log "not root: the ring-buffer benchmark needs BPF privileges and is left out"
  set -- -e RingBuffer "$@"
fi
log "running JMH (about 4 minutes for all of them)"
# bounded: JMH's own iteration times, and a hard stop at 15 minutes
timeout -s TERM 900 "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" org.openjdk.jmh.Main \
  -rf json -rff "$OUT/result.json" "$@" 2>&1 | tee "$OUT/log.txt"
if bpftool prog show 2>/dev/null | grep -q bench_rbfeeder; then
  log "WARNING: the ring-buffer feeder program is still loaded"
fi

RESULT=$(result_file jmh)
{
  echo "# JMH: decode, bridge, ring-buffer read path — $(date -u +%F)"
  echo
  echo "- date: $(date -u +%FT%TZ)"
  echo "- host: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r), JDK $("$JAVA_HOME/bin/java" -version 2>&1 | awk -F'"' 'NR == 1 { print $2 }'), JMH $(jq -r '.[0].jmhVersion' "$OUT/result.json")"
  echo "- repository: $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- loader otel-bridge bpf bench/jmh || echo ' (+uncommitted changes)')"
  echo "- one benchmark thread; scores are events (kernel records) per second on that thread, i.e. per core; the SDK's batch span processor and metric reader run their own threads beside it (2 CPUs here)"
  echo "- machine load while running (other sessions share it): load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| benchmark | parameters | events/s per core | ± (99.9% CI) | ns per event |"
  echo "|---|---|---|---|---|"
  jq -r '.[] | [(.benchmark | sub("dev.wmscope.bench."; "")), ((.params // {}) | to_entries | map("\(.key)=\(.value)") | join(",")), (.primaryMetric.score | floor), (.primaryMetric.scoreError | floor), (1e9 / .primaryMetric.score * 10 | floor / 10)] | "| \(.[0]) | \(.[1]) | \(.[2]) | \(.[3]) | \(.[4]) |"' "$OUT/result.json"
  echo
  echo "Span and feeder counts printed at tear-down (spans_exported below 100% means the SDK's batch processor dropped spans because its queue was full):"
  echo
  echo '```'
  grep -E '^(bridge|pipeline|ringbuffer)' "$OUT/log.txt" || echo "(none)"
  echo '```'
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
