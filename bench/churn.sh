#!/usr/bin/env bash
# Connection churn: how many short connections/s a watched server keeps with no monitor, with the
# minimal sock_ops counter and with wmscope, and what wmscope costs and delivers.
#
#   bench/churn.sh [--rounds N] [--seconds S] [--warmup S] [--concurrency C]
#                  [--servers c,standin] [--standin-workers N] [--no-rate-tests] [--work-us U]
#                  [--conditions none,counter,wmscope,fullwalk,nohealth]
#
# For each server (the epoll C echo server, one thread; the Workerman stand-in, text protocol),
# the three conditions run interleaved, the order rotating every round (ABC, BCA, CAB), each for
# an untimed warm-up (default 15 s: the agent, started fresh for each run, has then JIT-compiled
# its hot path, as a long-running agent has) and then S seconds (default 10) of measured loadgen churn
# (connect, 16-byte line, echo, close; C in flight, default 64). Before each run the script waits
# (at most 20 s) for the machine to be quiet; runs that saw other BPF programs are marked. Then, wmscope
# only, against the C server: paced runs at 1,000 new connections/s (the CPU target; first, once
# TIME_WAIT sockets of earlier runs have expired, after a 30 s warm-up at that rate) and 20,000
# (the no-loss target; after the rounds, 10 s warm-up). --rounds 0 runs only the paced runs. When netfilter conntrack is loaded,
# the servers' ports are exempted from it for the run (lib.sh notrack_port). Writes bench/results/churn-DATE.md. Needs root (BPF), about 12 minutes.
# --work-us U makes the C server spend U µs of its own CPU per request before echoing, as a
# handler's parsing and logic would: with U around 100 the one server thread, not the machine, is
# the bottleneck (the case where the workers are what limits the rate); 0, the default, is the
# bare echo that saturates both CPUs. The stand-in is not affected; the paced runs are skipped.
# --conditions picks the interleaved conditions (default none,counter,wmscope); fullwalk is the
# agent with WMSCOPE_DISABLE_FEATURES=tracked_iter (every live read walks all TCP sockets of the
# host, TIME_WAIT included: the fallback on kernels that refuse map iterators); nohealth is the
# agent with worker health off (WMSCOPE_DISABLE_FEATURES=loop_health,worker_exits,oom_marks): its
# sched_switch hook runs on every context switch of the host, the workers' included.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=3 SECS=10 WARM=15 CONC=64 SERVERS=c,standin STANDIN_WORKERS=1 RATE_TESTS=1 WORK_US=0 CONDITIONS=none,counter,wmscope
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --warmup) WARM=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --standin-workers) STANDIN_WORKERS=$2; shift 2 ;;
    --no-rate-tests) RATE_TESTS=0; shift ;;
    --work-us) WORK_US=$2; shift 2 ;;
    --conditions) CONDITIONS=$2; shift 2 ;;
    *) die "usage: $0 [--rounds N] [--seconds S] [--warmup S] [--concurrency C] [--servers c,standin] [--standin-workers N] [--no-rate-tests] [--work-us U] [--conditions none,counter,wmscope,fullwalk,nohealth]" ;;
  esac
done
[ "$ROUNDS" -ge 0 ] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || die "--rounds >= 0 (0: the paced runs only), --seconds 1..60"
[[ "$WORK_US" =~ ^[0-9]+$ ]] && [ "$WORK_US" -le 100000 ] || die "--work-us: microseconds of CPU per request, 0..100000"
if [ "$WORK_US" -gt 0 ] && [ "$RATE_TESTS" = 1 ]; then
  log "--work-us: skipping the paced runs (their targets are for the bare echo, which reaches 20,000 conn/s)"
  RATE_TESTS=0
fi

bench_packages
bench_init $((300 + ROUNDS * (SECS + WARM + 35) * 8)) # up to 4 conditions x 2 servers per round, with margin
build_tools
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file churn)
ROWS=$WORK/rows.tsv # server round cond rate established records expected drops agent_cpu_pct agent_ms_per_1k rss_mb hwm_mb server_cpu_pct busy_pct foreign
: >"$ROWS"

# run_one SERVER_KIND PORT ROUND COND [LOADGEN ARGS...]: one measured run; appends a row.
# Every condition gets the same untimed warm-up churn first (JIT-compiles the agent's hot path;
# warm-up connections still count for completeness), then the measured window.
run_one() {
  local kind=$1 port=$2 round=$3 cond=$4
  shift 4
  local out=$WORK/$kind-$round-$cond.json
  wait_quiet 10
  case $cond in
    counter) counter_start ;;
    wmscope) agent_start "$port" "$out" ;;
    fullwalk) WMSCOPE_DISABLE_FEATURES=tracked_iter agent_start "$port" "$out" ;;
    nohealth) WMSCOPE_DISABLE_FEATURES=loop_health,worker_exits,oom_marks agent_start "$port" "$out" ;;
  esac
  local counter0=0 accepted0=0 warm
  [ "$cond" = counter ] && counter0=$(counter_read)
  [ "$kind" = standin ] && accepted0=$(standin_accepted)
  warm=$("$WORK/loadgen" churn -p "$port" -c "$CONC" -d "${WARMUP_OVERRIDE:-$WARM}" "$@")
  local foreign a0=0 s0 b0 t0 line ct0 tw
  foreign=$(foreign_programs)
  ct0=$(conntrack_drops)
  tw=$(ss -tan state time-wait | tail -n +2 | wc -l)
  [ -n "$AGENT_PID" ] && { a0=$(cpu_ticks "$AGENT_PID"); thread_ticks "$AGENT_PID" >"$WORK/threads0"; }
  s0=$(cpu_ticks_sum "${SERVER_PIDS[@]}")
  read -r b0 t0 < <(machine_jiffies)
  line=$("$WORK/loadgen" churn -p "$port" -c "$CONC" -d "$SECS" "$@")
  local a1=0 s1 b1 t1
  [ -n "$AGENT_PID" ] && { a1=$(cpu_ticks "$AGENT_PID"); thread_ticks "$AGENT_PID" >"$WORK/threads1"; }
  s1=$(cpu_ticks_sum "${SERVER_PIDS[@]}")
  read -r b1 t1 < <(machine_jiffies)
  local ctd=$(( $(conntrack_drops) - ct0 ))
  foreign=$( (echo "$foreign"; foreign_programs) | tr ',' '\n' | { grep . || true; } | sort -u | paste -sd, -)
  local rate est elapsed
  rate=$(kv rate "$line") est=$(kv established "$line") elapsed=$(kv elapsed_s "$line")
  local records=- drops=- acpu=- ams=- rss=- hwm=- nojit=- expected
  expected=$(( est + $(kv established "$warm") ))
  if [ "$kind" = standin ]; then
    sleep 1 # the stand-in writes its stats file at most every 200 ms (lib.sh)
    expected=$(( $(standin_accepted) - accepted0 ))
  fi
  case $cond in
    counter)
      records=$(( $(counter_read) - counter0 ))
      counter_stop ;;
    wmscope | fullwalk | nohealth)
      # drain: wait (at most 15 s) until every record arrived or the count stops growing
      local n prev=-1 i a2
      for i in $(seq 1 30); do
        n=$(agent_records "$out")
        [ "$n" -ge "$expected" ] && break
        [ "$n" -eq "$prev" ] && [ "$i" -gt 4 ] && break
        prev=$n
        sleep 0.5
      done
      a2=$(cpu_ticks "$AGENT_PID")
      drops=$(agent_drops)
      rss=$(( $(rss_kb "$AGENT_PID") / 1024 )) hwm=$(( $(rss_kb "$AGENT_PID" VmHWM) / 1024 ))
      acpu=$(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v e="$elapsed" 'BEGIN { printf "%.1f", t / hz / e * 100 }')
      nojit=$(cpu_without_jit "$WORK/threads0" "$WORK/threads1" "$elapsed")
      ams=$(awk -v t=$((a2 - a0)) -v hz="$CLK_TCK" -v n="$est" 'BEGIN { printf "%.1f", n ? t / hz * 1000 / (n / 1000) : 0 }')
      agent_stop_counting "$out"
      records=$AGENT_RECORDS
      rm -f "$out" ;;
  esac
  local scpu busy
  scpu=$(awk -v t=$((s1 - s0)) -v hz="$CLK_TCK" -v e="$elapsed" 'BEGIN { printf "%.1f", t / hz / e * 100 }')
  busy=$(( (b1 - b0) * 100 / (t1 - t0) ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$round" "$cond" "$rate" "$est" \
    "$records" "$expected" "$drops" "$acpu" "$ams" "$rss" "$hwm" "$scpu" "$busy" "${foreign:--}" "$ctd" "$tw" "$nojit" >>"$ROWS"
  log "$kind round $round $cond: $rate conn/s, established $est, records $records/$expected, drops $drops, agent cpu $acpu%, ${ams} ms/1k, rss ${rss} MiB, foreign: ${foreign:--}"
  [ "$(awk -v e="$est" 'BEGIN { print (e > 0) }')" = 1 ] || log "WARNING: no connection established: $line"
  [ "$ctd" -eq 0 ] || log "WARNING: conntrack dropped $ctd packets during this run"
}

IFS=, read -r -a CONDS <<<"$CONDITIONS"
for c in "${CONDS[@]}"; do
  case $c in none | counter | wmscope | fullwalk | nohealth) ;; *) die "unknown condition $c (none, counter, wmscope, fullwalk, nohealth)" ;; esac
done
NC=${#CONDS[@]}
IFS=, read -r -a KINDS <<<"$SERVERS"
for kind in "${KINDS[@]}"; do
  port=$(free_port)
  case $kind in
    c) server_c "$port" 1 "$WORK_US" ;;
    standin) server_standin "$port" text "$STANDIN_WORKERS" ;;
    *) die "unknown server $kind (c, standin)" ;;
  esac
  log "server $kind on 127.0.0.1:$port (pids ${SERVER_PIDS[*]})"
  if [ "$kind" = c ] && [ "$RATE_TESTS" = 1 ]; then
    # first, while the host holds few TIME_WAIT sockets (the live read walks them all)
    wait_timewait 10000 65
    WARMUP_OVERRIDE=30 run_one c "$port" rate1000 wmscope -r 1000 -c 256
  fi
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < NC; k++)); do
      run_one "$kind" "$port" "$r" "${CONDS[(k + r - 1) % NC]}"
    done
  done
  if [ "$kind" = c ] && [ "$RATE_TESTS" = 1 ]; then
    WARMUP_OVERRIDE=10 run_one c "$port" rate20000 wmscope -r 20000 -c 256
  fi
  stop_pid "$SERVER_MAIN"
done

## Report ---------------------------------------------------------------------------------------
summary() { # summary KIND: one table row per condition
  local kind=$1 base cond rates med
  base=$(awk -F'\t' -v k="$kind" '$1 == k && $3 == "none" && $2 !~ /rate/ { print $4 }' "$ROWS" | median)
  for cond in "${CONDS[@]}"; do
    rates=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ { print $4 }' "$ROWS")
    [ -n "$rates" ] || continue
    med=$(median <<<"$rates")
    local st compl drops acpu ams rss foreign paired
    st=$(stats <<<"$rates")
    compl=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ && $6 != "-" { r += $6; e += $7 } END { if (e) printf "%.3f%% (%d/%d)", r * 100 / e, r, e; else print "-" }' "$ROWS")
    drops=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ && $8 != "-" { d += $8; n++ } END { print n ? d : "-" }' "$ROWS")
    acpu=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ && $9 != "-" { print $9 }' "$ROWS" | median)
    ams=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ && $10 != "-" { print $10 }' "$ROWS" | median)
    rss=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ && $12 != "-" { if ($12 > m) m = $12 } END { print m ? m : "-" }' "$ROWS")
    foreign=$(awk -F'\t' -v k="$kind" -v c="$cond" '$1 == k && $3 == c && $2 !~ /rate/ && $15 != "-" { n++ } END { print n + 0 }' "$ROWS")
    [ "$cond" = wmscope ] || [ "$cond" = fullwalk ] || [ "$cond" = nohealth ] || { acpu=-; ams=-; }
    paired=$(awk -F'\t' -v k="$kind" '$1 == k && $2 !~ /rate/' "$ROWS" | paired_ratios 2 3 4 "$cond" | median_of_list)
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$kind" "$cond" "$med" \
      "$(awk -v m="$med" -v b="$base" 'BEGIN { printf "%.3f", b ? m / b : 0 }')" "$paired" \
      "$(sed 's/ /, /g' <<<"$st")" "$compl" "$drops" "$acpu" "$ams" "$rss" "$foreign"
  done
}

{
  echo "# Connection churn — $(date -u +%F)"
  echo
  machine_header
  echo "- load: loadgen churn, $CONC connections in flight, ${WARM} s warm-up then ${SECS} s measured per run, 16-byte line echoed$([ "$WORK_US" -gt 0 ] && echo " after $WORK_US µs of CPU work in the C server"), client closes first; $ROUNDS rounds, conditions rotating (ABC, BCA, CAB); stand-in: $STANDIN_WORKERS worker(s), text protocol"
  echo "- paced runs: $([ "$RATE_TESTS" = 1 ] && echo "30 s (1,000/s) or 10 s (20,000/s) warm-up at the target rate, then ${SECS} s" || echo none); conntrack: $([ -n "$NOTRACK_TABLE" ] && echo "on, the servers' ports exempted (notrack) for the run" || echo off)"
  echo "- conditions: none; counter = bench/bpf/conn_counter.bpf.c (sock_ops, counts established connections); wmscope = agent jar, $(agent_output_desc); fullwalk = the same with WMSCOPE_DISABLE_FEATURES=tracked_iter; nohealth = the same with worker health off"
  echo
  echo "## Summary (medians over rounds)"
  echo
  echo "| server | condition | conn/s | ratio to none | ratio to the same round's none: median (per round) | rounds | records / connections | drops | agent CPU % of a core | agent CPU ms per 1k conns | agent RSS max MiB | rounds with foreign BPF |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for kind in "${KINDS[@]}"; do summary "$kind"; done
  if [ "$RATE_TESTS" = 1 ] && grep -q rate "$ROWS"; then
    echo
    echo "## Paced runs, wmscope, C server"
    echo
    echo "| target conn/s | achieved conn/s | records / connections | drops | agent CPU % of a core | same without JIT compiler threads | agent CPU ms per 1k conns | agent RSS MiB (peak) | TIME_WAIT sockets on the host |"
    echo "|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$2 ~ /^rate/ { sub("rate", "", $2); printf "| %s | %.0f | %.3f%% (%d/%d) | %s | %s | %s | %s | %s (%s) | %s |\n", $2, $4, $7 ? $6 * 100 / $7 : 0, $6, $7, $8, $9, $18, $10, $11, $12, $17 }' "$ROWS"
  fi
  echo
  echo "## Every run"
  echo
  echo "| server | round | condition | conn/s | established | records | expected | drops | agent CPU % | agent ms/1k | RSS MiB | peak RSS MiB | server CPU % | machine busy % | foreign BPF programs | conntrack drops | TIME_WAIT sockets at start | agent CPU % without JIT threads |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ $1 = $1; out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' OFS='\t' "$ROWS"
  echo
  echo "records: closed connections the agent delivered (wmscope, see conditions), connections the counter counted (counter). expected: connections the load generator established (C server) or the stand-in's workers accepted (stand-in). Machine busy % is over both CPUs (100 = both saturated)."
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
