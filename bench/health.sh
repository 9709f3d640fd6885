#!/usr/bin/env bash
# Worker health's cost to everyone else: the rate of a pipe ping-pong between two processes
# wmscope does not watch (two context switches per round trip) with no agent, with the agent and
# worker health off (WMSCOPE_DISABLE_FEATURES=loop_health,worker_exits,oom_marks), with it on,
# and with no agent but a sched_switch program that returns at once (floor: what any program on
# that tracepoint costs every context switch, bench/bpf/sched_switch_floor.bpf.c), side by side;
# the agent watches an idle stand-in (2 HTTP workers) meanwhile. Then, health on, two passes
# with kernel.bpf_stats_enabled=1: the BPF time of the sched_switch program per context switch
# of the host (its run count is the host's context switches), and per loop iteration of a
# watched worker (wrk with one keep-alive connection against one stand-in worker, both pinned to
# CPU 0: every switch there is the worker going to sleep in its wait or waking up from it).
#
#   bench/health.sh [--rounds N] [--seconds S]
#
# Conditions interleave, the order rotating every round. Writes bench/results/health-DATE.md.
# Root; about 3 minutes with the defaults.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=3 SECS=8
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    *) die "usage: $0 [--rounds N] [--seconds S]" ;;
  esac
done
[ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || die "--rounds >= 1, --seconds 1..60"

bench_init $((300 + ROUNDS * (SECS + 20) * 3))
build_tools
gcc -O2 -Wall -Wextra -Werror -o "$WORK/pipe_pingpong" "$BENCH_DIR/c/pipe_pingpong.c" || die "compile pipe_pingpong.c"
gcc -O2 -Wall -Wextra -Werror -o "$WORK/bpf_runner" "$BENCH_DIR/c/bpf_runner.c" -lbpf || die "compile bpf_runner.c"
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"$REPO_DIR/bpf" \
  -c "$BENCH_DIR/bpf/sched_switch_floor.bpf.c" -o "$WORK/sched_switch_floor.bpf.o" || die "compile sched_switch_floor.bpf.c"
bench_packages wrk
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file health)
ROWS=$WORK/rows.tsv # round cond rate
: >"$ROWS"
OFF=loop_health,worker_exits,oom_marks

port=$(free_port)
server_standin "$port" http 2

run_cond() { # round cond
  local round=$1 cond=$2 line
  case $cond in
    none) ;;
    health_off) WMSCOPE_DISABLE_FEATURES=$OFF agent_start "$port" /dev/null ;;
    health_on) agent_start "$port" /dev/null ;;
    floor)
      "$WORK/bpf_runner" "$WORK/sched_switch_floor.bpf.o" "$CGROUP_ROOT" 0 $((SECS + 4)) >"$WORK/floor.out" 2>&1 &
      BENCH_PIDS+=($!)
      FLOOR_PID=$!
      for _ in $(seq 1 50); do grep -q ready "$WORK/floor.out" && break; sleep 0.1; done
      grep -q ready "$WORK/floor.out" || die "the floor program did not attach: $(cat "$WORK/floor.out")" ;;
  esac
  case $cond in health_*) sleep 2 ;; esac # the first health ticks have watched the workers
  line=$(taskset -c 0 "$WORK/pipe_pingpong" -d "$SECS")
  case $cond in
    health_*) agent_stop ;;
    floor) stop_pid "$FLOOR_PID" ;;
  esac
  printf '%s\t%s\t%s\n' "$round" "$cond" "$(kv rate "$line")" >>"$ROWS"
  log "round $round $cond: $line"
}

conds=(none health_off health_on floor)
for round in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2 3; do
    run_cond "$round" "${conds[$(( (i + round - 1) % 4 ))]}"
  done
done

# BPF time per context switch, health on
bpf_stats_on
agent_start "$port" /dev/null
sleep 2
# (program names are cut to 15 characters in the kernel: wmscope_tp_sche)
id=$(bpftool prog show -j | jq -r '[.[] | select((.name // "") | startswith("wmscope_tp_sche"))][0].id // empty')
[ -n "$id" ] || die "the agent's sched_switch program is not loaded (loop_health refused? see $AGENT_LOG)"
s0=$(bpftool prog show id "$id" -j | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"')
line=$(taskset -c 0 "$WORK/pipe_pingpong" -d "$SECS")
s1=$(bpftool prog show id "$id" -j | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"')
stats=$(awk -v a="$s0" -v b="$s1" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[1] - x[1]; t = y[2] - x[2];
  printf "%d context switches, %.0f ns per switch", n, n ? t / n : 0 }')
# per loop iteration of a watched worker: one keep-alive connection, wrk and the stand-in's
# workers on CPU 0, so each request is the worker waking from its wait and going back to it
for pid in "${SERVER_PIDS[@]}"; do taskset -a -p 0x1 "$pid" >/dev/null; done
sleep 1
s0=$(bpftool prog show id "$id" -j | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"')
wrk_out=$(taskset -c 0 wrk -t 1 -c 1 -d "${SECS}s" "http://127.0.0.1:$port/")
s1=$(bpftool prog show id "$id" -j | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"')
requests=$(awk '/requests in/ { print $1 }' <<<"$wrk_out")
watched=$(awk -v a="$s0" -v b="$s1" -v r="$requests" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[1] - x[1];
  t = y[2] - x[2]; printf "%d requests (loop iterations), %d context switches on the host (%.2f per iteration), %.0f ns of BPF per iteration, %.0f ns per switch", r, n, r ? n / r : 0, r ? t / r : 0, n ? t / n : 0 }')
agent_stop
sysctl -q kernel.bpf_stats_enabled="$STATS_BEFORE" # (the EXIT trap restores it too, on any failure)

{
  echo "# Worker health cost to unwatched processes — $(date -u +%F)"
  echo
  machine_header
  echo "- load: pipe ping-pong between two unwatched processes pinned to CPU 0 (bench/c/pipe_pingpong.c), $SECS s per run, $ROUNDS rounds, conditions rotating; agent watching an idle 2-worker HTTP stand-in"
  echo
  echo "| condition | round trips/s (median) | ratio to none: paired median (per round) |"
  echo "|---|---|---|"
  for c in none health_off health_on floor; do
    med=$(col "$c" 3 | median)
    if [ "$c" = none ]; then r="-"; else
      r="$(paired_ratios 1 2 3 "$c" <"$ROWS" | median) ($(paired_ratios 1 2 3 "$c" <"$ROWS" | paste -sd, | sed 's/,/, /g'))"
    fi
    echo "| $c | $med | $r |"
  done
  echo
  echo "floor: no agent, a sched_switch program that returns at once (bench/bpf/sched_switch_floor.bpf.c): what any program on that tracepoint costs"
  echo
  echo "BPF time of wmscope_tp_sched_switch (kernel.bpf_stats_enabled=1, these passes only):"
  echo "- unwatched ping-pong: $stats; ping-pong in that pass: $line"
  echo "- a watched worker's loop (wrk -t 1 -c 1 and the stand-in's workers on CPU 0): $watched"
  echo
  echo "## Every run"
  echo
  echo "| round | condition | round trips/s |"
  echo "|---|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$ROWS"
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
