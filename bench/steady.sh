#!/usr/bin/env bash
# The agent's own CPU once the JIT has settled: idle beside a Workerman app, per HTTP request
# under wrk keep-alive load and per WebSocket echo under c/wsload.c load, each measured over the
# last part of a long run (the short runs of requests.sh include the JIT's first minute).
#
#   bench/steady.sh [--jars A.jar,B.jar] [--seconds S] [--rounds N]
#
# Stand-ins: an http worker (2 processes) and a websocket worker (1); the agent runs as installed
# (no selection: it finds the Workerman apps of the host itself, so discovery's own cost is in the
# figures; other Workerman apps on the host would be watched too). Per jar and
# round: the agent starts, 20 s to settle, 20 s idle measured; wrk -t1 -c32 for S seconds
# (default 60), the agent's CPU (/proc/PID/stat) and the requests it reported
# (http_server_request_duration_seconds_count) over the last 20 s; wsload for S seconds, the same
# with the received-message count. --jars compares jars side by side, alternating each round
# (default: WMSCOPE_JAR or agent/target/wmscope.jar). Writes bench/results/steady-DATE.md. Root;
# about (S * 2 + 60) s per jar and round.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

JARS=${WMSCOPE_JAR:-$REPO_DIR/agent/target/wmscope.jar} SECS=60 ROUNDS=1
while [ $# -gt 0 ]; do
  case $1 in
    --jars) JARS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) die "usage: $0 [--jars A.jar,B.jar] [--seconds S] [--rounds N]" ;;
  esac
done
[ "$SECS" -ge 30 ] && [ "$SECS" -le 300 ] && [ "$ROUNDS" -ge 1 ] || die "--seconds 30..300, --rounds >= 1"
IFS=, read -r -a JAR_LIST <<<"$JARS"
for j in "${JAR_LIST[@]}"; do [ -f "$j" ] || die "no jar $j"; done

bench_packages wrk
bench_init $((300 + ${#JAR_LIST[@]} * ROUNDS * (SECS * 2 + 90)))
build_tools
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file steady)
ROWS=$WORK/rows.tsv # jar round idle% http_rps http_agent% http_us ws_rps ws_agent% ws_us
: >"$ROWS"

http=$(free_port)
server_standin "$http" http 2
HTTP_MAIN=$SERVER_MAIN
ws=$(free_port)
server_standin "$ws" websocket 1
WS_MAIN=$SERVER_MAIN

# window KIND SECONDS: "rate agent% us-per-event" over the last 20 s of a load already running
window() {
  local kind=$1 t0 t1 c0 c1 p0 p1
  sleep $(($2 - 25))
  t0=$(date +%s.%N) p0=$(cpu_ticks "$AGENT_PID") c0=$(agent_reported "$kind")
  sleep 20
  t1=$(date +%s.%N) p1=$(cpu_ticks "$AGENT_PID") c1=$(agent_reported "$kind")
  awk -v t0="$t0" -v t1="$t1" -v n=$((c1 - c0)) -v cpu=$((p1 - p0)) -v hz="$CLK_TCK" \
    'BEGIN { t = t1 - t0; s = cpu / hz; printf "%.0f\t%.1f\t%.2f", n / t, 100 * s / t, n ? 1e6 * s / n : 0 }'
}

for ((r = 1; r <= ROUNDS; r++)); do
  for jar in "${JAR_LIST[@]}"; do
    WMSCOPE_JAR=$jar prepare_agent
    wait_quiet 10
    agent_start auto /dev/null
    sleep 20
    p0=$(cpu_ticks "$AGENT_PID")
    sleep 20
    idle=$(awk -v t=$(($(cpu_ticks "$AGENT_PID") - p0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", 100 * t / hz / 20 }')
    wrk -t 1 -c 32 -d "${SECS}s" "http://127.0.0.1:$http/" >/dev/null &
    load=$!
    h=$(window http "$SECS")
    wait "$load"
    "$WORK/wsload" -p "$ws" -c 32 -d "$SECS" -m 64 >/dev/null &
    load=$!
    w=$(window websocket "$SECS")
    wait "$load"
    agent_stop
    printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$jar") ($AGENT_JAR_INFO)" "$r" "$idle" "$h" "$w" >>"$ROWS"
    log "round $r $jar: idle $idle%, http $h, ws $w"
  done
done
stop_pid "$HTTP_MAIN"
stop_pid "$WS_MAIN"

{
  echo "# Agent CPU at steady state — $(date -u +%F)"
  echo
  machine_header
  echo "- agent: \`wmscope run\` with no selection (discovery finds the stand-ins)"
  echo "- load: wrk -t1 -c32 against a 2-process stand-in http worker, c/wsload.c (32 connections, 64-byte text messages, one in flight each) against a 1-process websocket worker, ${SECS} s each, measured over the last 20 s; idle: 20 s with no traffic after 20 s to settle"
  echo
  echo "| jar | round | idle, % of a core | HTTP requests/s | agent % | agent µs per request | WebSocket echoes/s | agent % | agent µs per echo |"
  echo "|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' "$ROWS"
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
