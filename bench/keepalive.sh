#!/usr/bin/env bash
# Keep-alive throughput: requests/s of the Workerman stand-in's HTTP protocol under wrk with no
# monitor, with the minimal sock_ops counter and with wmscope. Few connections, many requests
# each: this measures the per-packet cost (sock_ops callbacks, send/recv tracepoints) and the
# live reads of open connections, not the per-connection cost.
#
#   bench/keepalive.sh [--rounds N] [--seconds S] [--warmup S] [--connections C] [--threads T]
#                      [--standin-workers N] [--conditions none,counter,wmscope,nohealth]
#
# Conditions interleaved, the order rotating each round (ABC, BCA, CAB); each run: untimed wrk
# warm-up (default 3 s), then S seconds (default 10) measured with
# `wrk -t T -c C --latency http://127.0.0.1:PORT/` (GET / -> "hello\n"). Installs the Debian
# package wrk when missing. --conditions picks the interleaved conditions (default
# none,counter,wmscope); nohealth is the agent with worker health off
# (WMSCOPE_DISABLE_FEATURES=loop_health,worker_exits,oom_marks), and with both wmscope and
# nohealth the report gives their paired ratio: what the sched_switch hook costs a busy worker.
# Writes bench/results/keepalive-DATE.md. Root; about 3 minutes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=3 SECS=10 WARM=3 CONNS=32 THREADS=1 STANDIN_WORKERS=1 CONDITIONS=none,counter,wmscope
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --warmup) WARM=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --standin-workers) STANDIN_WORKERS=$2; shift 2 ;;
    --conditions) CONDITIONS=$2; shift 2 ;;
    *) die "usage: $0 [--rounds N] [--seconds S] [--warmup S] [--connections C] [--threads T] [--standin-workers N] [--conditions none,counter,wmscope,nohealth]" ;;
  esac
done
[ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || die "--rounds >= 1, --seconds 1..60"
IFS=, read -r -a CONDS <<<"$CONDITIONS"
for c in "${CONDS[@]}"; do
  case $c in none | counter | wmscope | nohealth) ;; *) die "--conditions: none, counter, wmscope, nohealth (not $c)" ;; esac
done

bench_packages wrk
bench_init $((300 + ROUNDS * (SECS + WARM + 30) * ${#CONDS[@]})) # per condition and round, with margin
build_tools
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file keepalive)
ROWS=$WORK/rows.tsv # round cond rps p50 p99 records expected drops agent_cpu_pct rss hwm server_cpu busy foreign errors
: >"$ROWS"


run_one() {
  local port=$1 round=$2 cond=$3
  local out=$WORK/$round-$cond.json url=http://127.0.0.1:$1/
  wait_quiet 10
  case $cond in
    counter) counter_start ;;
    wmscope) agent_start "$port" "$out" ;;
    nohealth) WMSCOPE_DISABLE_FEATURES=loop_health,worker_exits,oom_marks agent_start "$port" "$out" ;;
  esac
  wrk -t "$THREADS" -c "$CONNS" -d "${WARM}s" "$url" >/dev/null
  local foreign a0=0 s0 b0 t0 res
  foreign=$(foreign_programs)
  [ -n "$AGENT_PID" ] && a0=$(cpu_ticks "$AGENT_PID")
  s0=$(cpu_ticks_sum "${SERVER_PIDS[@]}")
  read -r b0 t0 < <(machine_jiffies)
  res=$(wrk -t "$THREADS" -c "$CONNS" -d "${SECS}s" --latency "$url")
  local a1=0 s1 b1 t1
  [ -n "$AGENT_PID" ] && a1=$(cpu_ticks "$AGENT_PID")
  s1=$(cpu_ticks_sum "${SERVER_PIDS[@]}")
  read -r b1 t1 < <(machine_jiffies)
  foreign=$( (echo "$foreign"; foreign_programs) | tr ',' '\n' | { grep . || true; } | sort -u | paste -sd, -)
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$res")
  p50=$(wrk_pct 50% "$res") p99=$(wrk_pct 99% "$res")
  errors=$(awk '/Socket errors|Non-2xx/ { print }' <<<"$res" | tr -s ' ' | paste -sd';' -)
  local records=- drops=- acpu=- rss=- hwm=- expected=$((2 * CONNS))
  case $cond in
    counter) counter_stop ;;
    wmscope | nohealth)
      local i
      for i in $(seq 1 20); do [ "$(agent_records "$out")" -ge "$expected" ] && break; sleep 0.25; done
      drops=$(agent_drops)
      rss=$(( $(rss_kb "$AGENT_PID") / 1024 )) hwm=$(( $(rss_kb "$AGENT_PID" VmHWM) / 1024 ))
      acpu=$(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v e="$SECS" 'BEGIN { printf "%.1f", t / hz / e * 100 }')
      agent_stop_counting "$out"
      records=$AGENT_RECORDS ;;
  esac
  local scpu busy
  scpu=$(awk -v t=$((s1 - s0)) -v hz="$CLK_TCK" -v e="$SECS" 'BEGIN { printf "%.1f", t / hz / e * 100 }')
  busy=$(( (b1 - b0) * 100 / (t1 - t0) ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$cond" "$rps" "$p50" "$p99" \
    "$records" "$expected" "$drops" "$acpu" "$rss" "$hwm" "$scpu" "$busy" "${foreign:--}" "${errors:--}" >>"$ROWS"
  log "round $round $cond: $rps req/s, p50 ${p50} us, p99 ${p99} us, records $records/$expected, drops $drops, agent cpu $acpu%, rss $rss MiB, foreign: ${foreign:--} ${errors}"
}

port=$(free_port)
server_standin "$port" http "$STANDIN_WORKERS"
log "stand-in http on 127.0.0.1:$port (workers ${SERVER_PIDS[*]})"
for ((r = 1; r <= ROUNDS; r++)); do
  for ((k = 0; k < ${#CONDS[@]}; k++)); do
    run_one "$port" "$r" "${CONDS[(k + r - 1) % ${#CONDS[@]}]}"
  done
done
stop_pid "$SERVER_MAIN"

base=$(col none 3 | median)
{
  echo "# Keep-alive throughput (wrk, HTTP stand-in) — $(date -u +%F)"
  echo
  machine_header
  echo "- load: wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), $THREADS thread(s), $CONNS keep-alive connections, GET / (\"hello\\n\"), ${WARM} s warm-up then ${SECS} s measured; stand-in: $STANDIN_WORKERS worker(s), http protocol; $ROUNDS rounds, conditions rotating"
  echo
  echo "## Summary (medians over rounds)"
  echo
  echo "| condition | requests/s | ratio to none | ratio to the same round's none: median (per round) | rounds | p50 µs | p99 µs | records / connections | drops | agent CPU % of a core | agent RSS max MiB | rounds with foreign BPF |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for cond in "${CONDS[@]}"; do
    med=$(col "$cond" 3 | median)
    compl=$(awk -F'\t' -v c="$cond" '$2 == c && $6 != "-" { r += $6; e += $7 } END { if (e) printf "%d/%d", r, e; else print "-" }' "$ROWS")
    drops=$(awk -F'\t' -v c="$cond" '$2 == c && $8 != "-" { d += $8; n++ } END { print n ? d : "-" }' "$ROWS")
    acpu=$(col "$cond" 9 | median) rss=$(col "$cond" 11 | sort -g | tail -1)
    case $cond in wmscope | nohealth) ;; *) acpu=- ;; esac
    printf '| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$cond" "$med" \
      "$(awk -v m="$med" -v b="$base" 'BEGIN { printf "%.3f", b ? m / b : 0 }')" \
      "$(paired_ratios 1 2 3 "$cond" <"$ROWS" | median_of_list)" \
      "$(col "$cond" 3 | stats | sed 's/ /, /g')" "$(col "$cond" 4 | median)" "$(col "$cond" 5 | median)" \
      "$compl" "$drops" "$acpu" "${rss:--}" "$(awk -F'\t' -v c="$cond" '$2 == c && $14 != "-" { n++ } END { print n + 0 }' "$ROWS")"
  done
  if [[ ",$CONDITIONS," == *,wmscope,* && ",$CONDITIONS," == *,nohealth,* ]]; then
    echo
    echo "Worker health's cost to the busy worker: wmscope / nohealth, paired by round: $(awk -F'\t' '
      $2 == "wmscope" { w[$1] = $3 } $2 == "nohealth" { h[$1] = $3 }
      END { for (r in w) if (r in h && h[r] > 0) printf "%.3f\n", w[r] / h[r] }' "$ROWS" | sort -g | median_of_list)"
  fi
  echo
  echo "## Every run"
  echo
  echo "| round | condition | requests/s | p50 µs | p99 µs | records | expected | drops | agent CPU % | RSS MiB | peak RSS MiB | server CPU % | machine busy % | foreign BPF programs | wrk errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' "$ROWS"
  echo
  echo "- wmscope: $(agent_output_desc)"
  echo "records: closed connections the agent delivered; expected: the warm-up's and the measured run's connections. Machine busy % is over both CPUs."
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
