#!/usr/bin/env bash
# Where wmscope's cost goes, for the targets the benchmarks miss: the kernel side from BPF run-time
# statistics (kernel.bpf_stats_enabled=1, then run_time_ns/run_cnt of every program the agent
# holds), the JVM side from a JFR recording of the agent (hot methods, and CPU by thread).
#
#   bench/profile.sh [--seconds S]
#
# Three runs against loopback traffic, each after a warm-up (3 s; 15 s for the JFR run): the minimal counter under churn
# (the floor), wmscope under churn (C server, 64 in flight, as fast as it goes), wmscope under
# keep-alive load (wrk against the stand-in's HTTP protocol). bpf_stats_enabled is global and
# costs two clock reads per program run, so it is on only during this script and restored at
# exit. Writes bench/results/profile-DATE.md. Root; about 2 minutes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SECS=8
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECS=$2; shift 2 ;;
    *) die "usage: $0 [--seconds S]" ;;
  esac
done

bench_packages wrk
bench_init 600
bpf_stats_on
build_tools
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file profile)
REPORT=$WORK/report.md
: >"$REPORT"

# prog_stats IDS...: "id name run_cnt run_time_ns" per program
prog_stats() {
  local id
  for id in "$@"; do
    bpftool prog show id "$id" -j 2>/dev/null | jq -r '"\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'
  done
}

agent_prog_ids() {
  cat /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un
}

# stats_table BEFORE AFTER UNITS UNIT_NAME: per-program cost over the window, per unit of work
stats_table() {
  echo "| program | runs | runs per $4 | ns per run | ns per $4 |"
  echo "|---|---|---|---|---|"
  join <(sort "$1") <(sort "$2") | awk -v n="$3" '{ runs = $6 - $3; ns = $7 - $4; tr += runs; tn += ns
      printf "| %s | %d | %.2f | %.0f | %.0f |\n", $2, runs, runs / n, runs ? ns / runs : 0, ns / n }
    END { printf "| **all** | %d | %.2f | %.0f | **%.0f** |\n", tr, tr / n, tr ? tn / tr : 0, tn / n }'
}

## 1. the counter under churn ------------------------------------------------------------------
port=$(free_port)
server_c "$port" 1
counter_start
"$WORK/loadgen" churn -p "$port" -c 64 -d 3 >/dev/null
cid=$(bpftool prog show pinned "$COUNTER_PIN" -j | jq .id)
prog_stats "$cid" >"$WORK/c0"
line=$("$WORK/loadgen" churn -p "$port" -c 64 -d "$SECS")
prog_stats "$cid" >"$WORK/c1"
counter_stop
est=$(kv established "$line")
{
  echo "## Minimal sock_ops counter, churn ($(kv rate "$line") conn/s, $est connections)"
  echo
  stats_table "$WORK/c0" "$WORK/c1" "$est" connection
  echo
} >>"$REPORT"

## 2. wmscope under churn, with JFR --------------------------------------------------------------
# JFR records the measured window only: the warm-up (as long as churn.sh's) lets the JIT settle,
# so the profile shows the steady state of a long-running agent, not its start
JFR=$WORK/agent.jfr
agent_start "$port" /dev/null
"$WORK/loadgen" churn -p "$port" -c 64 -d 15 >/dev/null
"$JAVA_HOME/bin/jcmd" "$AGENT_PID" JFR.start name=window settings=profile >/dev/null
mapfile -t ids < <(agent_prog_ids)
prog_stats "${ids[@]}" >"$WORK/w0"
a0=$(cpu_ticks "$AGENT_PID")
line=$("$WORK/loadgen" churn -p "$port" -c 64 -d "$SECS")
a1=$(cpu_ticks "$AGENT_PID")
prog_stats "${ids[@]}" >"$WORK/w1"
"$JAVA_HOME/bin/jcmd" "$AGENT_PID" JFR.stop name=window filename="$JFR" >/dev/null
est=$(kv established "$line")
{
  echo "## wmscope, churn ($(kv rate "$line") conn/s, $est connections; agent: $(agent_output_desc))"
  echo
  stats_table "$WORK/w0" "$WORK/w1" "$est" connection
  echo
  awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v n="$est" -v s="$SECS" 'BEGIN {
    printf "Agent process CPU over the window: %.1f%% of a core, %.1f µs per connection.\n\n", t / hz / s * 100, t / hz * 1e6 / n }'
} >>"$REPORT"
agent_stop
stop_pid "$SERVER_MAIN"

## 3. wmscope under keep-alive load --------------------------------------------------------------
port=$(free_port)
server_standin "$port" http 1
agent_start "$port" /dev/null
wrk -t 1 -c 32 -d 3s "http://127.0.0.1:$port/" >/dev/null
mapfile -t ids < <(agent_prog_ids)
prog_stats "${ids[@]}" >"$WORK/k0"
res=$(wrk -t 1 -c 32 -d "${SECS}s" "http://127.0.0.1:$port/")
prog_stats "${ids[@]}" >"$WORK/k1"
reqs=$(awk '/requests in/ { print $1 }' <<<"$res")
{
  echo "## wmscope, keep-alive (wrk, 32 connections, $reqs requests)"
  echo
  stats_table "$WORK/k0" "$WORK/k1" "$reqs" request
  echo
} >>"$REPORT"
agent_stop
stop_pid "$SERVER_MAIN"

## report ----------------------------------------------------------------------------------------
{
  echo "# Profile: where wmscope's cost goes — $(date -u +%F)"
  echo
  machine_header
  echo "- BPF run-time statistics (kernel.bpf_stats_enabled=1 during this script only); programs of other sessions are not counted"
  echo
  cat "$REPORT"
  echo "## JVM: hot methods of the agent during the churn window (JFR, settings=profile, after a 15 s warm-up)"
  echo
  echo '```'
  "$JAVA_HOME/bin/jfr" view --width 160 hot-methods "$JFR" 2>/dev/null | sed -n '4,30p'
  echo '```'
  echo
  echo "## JVM: allocation by site (JFR)"
  echo
  echo '```'
  "$JAVA_HOME/bin/jfr" view --width 160 allocation-by-site "$JFR" 2>/dev/null | sed -n '4,22p'
  echo '```'
  echo
  echo "## JVM: CPU by thread (JFR)"
  echo
  echo '```'
  "$JAVA_HOME/bin/jfr" view --width 160 thread-cpu-load "$JFR" 2>/dev/null | sed -n '4,16p' || true
  echo '```'
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
