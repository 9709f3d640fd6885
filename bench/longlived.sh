#!/usr/bin/env bash
# Long-lived scale: 10,000 concurrent connections with periodic traffic against the epoll C
# server, and what wmscope costs while they stay open: agent CPU per poll interval, RSS (and
# where it goes, from the JVM's native memory tracking), and how long one read of the live
# connection state (an iterator pass: mostly over the marked sockets, every tenth over all TCP sockets) takes.
#
#   bench/longlived.sh [--connections N] [--seconds S] [--interval-ms I] [--poll-interval D]
#                      [--conditions none,wmscope,adopt,fullwalk] [--idle M]
#
# Conditions, one run each: none; wmscope (agent attached before the connections open, so
# sock_ops tracks them); adopt (agent started once they are all open: the iterator adopts them
# as preexisting); fullwalk (as wmscope, with WMSCOPE_DISABLE_FEATURES=tracked_iter: every live
# read walks all TCP sockets of the host, the fallback on kernels that refuse map iterators).
# --idle M holds M more connections open to a second, unwatched echo server for the whole run
# (no traffic): the host's other sockets, which only the full walk pays for. loadgen hold opens N connections (default 10,000) and then sends one 16-byte
# line per connection every I ms (default 1000, spread evenly: 10,000 echoes/s) for S seconds
# (default 45), then closes them all. While they are open:
#   - agent CPU (utime+stime from /proc) over a 25 s window divided by the polls in it
#     (window / --poll-interval, default 1s), with a per-thread breakdown;
#   - the live-state read time measured from outside: strace -T on the poll thread for 6 s, one
#     read = bpf(BPF_ITER_CREATE) .. close of that iterator fd (the kernel walk and the copy out,
#     not the parse); strace slows the thread a little, so this window is not the CPU window;
#   - VmRSS/VmHWM, and the JVM's own breakdown (-XX:NativeMemoryTracking=summary, jcmd).
# After the close, completeness: N close records expected. Each run first lets TIME_WAIT sockets
# of earlier runs expire (at most 70 s): the live read walks every TCP socket of the host.
# Writes bench/results/longlived-DATE.md.
# Root; raises ulimit -n; about 3 minutes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CONNS=10000 SECS=45 INTERVAL=1000 POLL=1s CONDITIONS=none,wmscope,adopt IDLE=0
while [ $# -gt 0 ]; do
  case $1 in
    --connections) CONNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --interval-ms) INTERVAL=$2; shift 2 ;;
    --poll-interval) POLL=$2; shift 2 ;;
    --conditions) CONDITIONS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    *) die "usage: $0 [--connections N] [--seconds S] [--interval-ms I] [--poll-interval D] [--conditions none,wmscope,adopt,fullwalk] [--idle M]" ;;
  esac
done
[ "$SECS" -ge 40 ] && [ "$SECS" -le 120 ] || die "--seconds 40..120 (25 s CPU window + 6 s trace window + settling)"
POLL_S=$(awk -v d="$POLL" 'BEGIN { if (d ~ /ms$/) { sub("ms", "", d); print d / 1000 } else if (d ~ /s$/) { sub("s", "", d); print d } else print d }')
CPU_WINDOW=25 TRACE_WINDOW=6
AGENT_JAVA_OPTS="-XX:NativeMemoryTracking=summary ${AGENT_JAVA_OPTS:-}"

bench_packages strace
bench_init 900
[[ "$IDLE" =~ ^[0-9]+$ ]] && [ $((CONNS + IDLE)) -le 26000 ] || die "--idle M: connections + idle at most 26,000 (the ephemeral port range)"
ulimit -n $(( (CONNS > IDLE ? CONNS : IDLE) * 2 + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
build_tools
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file longlived)
ROWS=$WORK/rows.tsv
: >"$ROWS"
DETAILS=$WORK/details.md
: >"$DETAILS"

# snapshot_times STRACE_OUT: one line per iterator pass: its duration in ms
snapshot_times() {
  awk '
    function t(ts) { split(ts, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    / bpf\(BPF_ITER_CREATE/ { match($0, /= [0-9]+/); fd = substr($0, RSTART + 2, RLENGTH - 2); start = t($1); next }
    start && $2 ~ "^close\\(" fd "\\)" { d = $NF; gsub(/[<>]/, "", d); printf "%.3f\n", (t($1) + d - start) * 1000; start = 0 }
  ' "$1"
}

run_one() {
  local cond=$1 port
  port=$(free_port)
  server_c "$port" 1
  local out=$WORK/$cond.json hold=$WORK/$cond-hold.out
  # TIME_WAIT sockets of earlier churn sit in the TCP hash the live read walks: let them expire
  # (60 s on Linux) so the read measures the 10,000 connections, not what came before
  local i tw
  wait_timewait 2000 70
  wait_quiet 20
  local idle_lg=""
  if [ "$IDLE" -gt 0 ]; then
    # the unwatched server and its idle clients (no traffic: one line per 10 minutes)
    local main=$SERVER_MAIN pids=("${SERVER_PIDS[@]}") idle_port
    idle_port=$(free_port)
    server_c "$idle_port" 1
    SERVER_IDLE=$SERVER_MAIN SERVER_MAIN=$main SERVER_PIDS=("${pids[@]}")
    "$WORK/loadgen" hold -p "$idle_port" -n "$IDLE" -d $((SECS + 60)) -i 600000 -R 5000 >"$WORK/$cond-idle.out" 2>&1 &
    idle_lg=$!
    BENCH_PIDS+=("$idle_lg")
    for i in $(seq 1 700); do grep -q '^ready' "$WORK/$cond-idle.out" && break; sleep 0.1; done
    grep -q '^ready' "$WORK/$cond-idle.out" || die "idle loadgen did not get ready: $(cat "$WORK/$cond-idle.out")"
  fi
  case $cond in
    wmscope) agent_start "$port" "$out" --poll-interval "$POLL" ;;
    fullwalk) WMSCOPE_DISABLE_FEATURES=tracked_iter agent_start "$port" "$out" --poll-interval "$POLL" ;;
  esac
  "$WORK/loadgen" hold -p "$port" -n "$CONNS" -d "$SECS" -i "$INTERVAL" -R 5000 >"$hold" 2>&1 &
  local lg=$!
  BENCH_PIDS+=("$lg")
  local i
  for i in $(seq 1 700); do grep -q '^ready' "$hold" && break; sleep 0.1; done
  grep -q '^ready' "$hold" || die "loadgen hold did not get ready: $(cat "$hold")"
  log "$cond: $(head -1 "$hold")"
  local adopt_s=-
  if [ "$cond" = adopt ]; then
    local t0=$SECONDS
    agent_start "$port" "$out" --poll-interval "$POLL"
    adopt_s=$((SECONDS - t0))
  fi
  sleep 3 # first polls: adoption, JIT
  local foreign a0=0 a1=0 b0 t0 b1 t1 rss=- hwm=- acpu=- perpoll=- snaps=- nmt="" threads="" nojit=- nojitpoll=-
  foreign=$(foreign_programs)
  tw=$(ss -tan state time-wait | tail -n +2 | wc -l)
  local all_tcp
  all_tcp=$(ss -tan | tail -n +2 | wc -l)
  read -r b0 t0 < <(machine_jiffies)
  if [ -n "$AGENT_PID" ]; then
    thread_ticks "$AGENT_PID" >"$WORK/t0"
    a0=$(cpu_ticks "$AGENT_PID")
  fi
  sleep "$CPU_WINDOW"
  read -r b1 t1 < <(machine_jiffies)
  if [ -n "$AGENT_PID" ]; then
    a1=$(cpu_ticks "$AGENT_PID")
    thread_ticks "$AGENT_PID" >"$WORK/t1"
    acpu=$(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v w="$CPU_WINDOW" 'BEGIN { printf "%.1f", t / hz / w * 100 }')
    perpoll=$(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v w="$CPU_WINDOW" -v p="$POLL_S" 'BEGIN { printf "%.1f", t / hz * 1000 / (w / p) }')
    # JIT compiler threads still work for a minute or more after start; without them, the
    # steady state
    nojit=$(cpu_without_jit "$WORK/t0" "$WORK/t1" "$CPU_WINDOW")
    nojitpoll=$(awk -v p="$nojit" -v s="$POLL_S" 'BEGIN { printf "%.1f", p / 100 * s * 1000 }')
    threads=$(join "$WORK/t0" "$WORK/t1" | awk -v hz="$CLK_TCK" -v w="$CPU_WINDOW" '{ u = ($4 - $2) / hz / w * 100; s = ($5 - $3) / hz / w * 100; if (u + s >= 0.05) printf "%s: %.1f%% (user %.1f, sys %.1f); ", $1, u + s, u, s }')
    rss=$(( $(rss_kb "$AGENT_PID") / 1024 )) hwm=$(( $(rss_kb "$AGENT_PID" VmHWM) / 1024 ))
    nmt=$("$JAVA_HOME/bin/jcmd" "$AGENT_PID" VM.native_memory summary 2>/dev/null |
      awk '/^Total:/ || /^-  *[A-Za-z]/ { print }' | sed 's/^-  *//' | head -14 || true)
    local poll_tid
    poll_tid=$(grep -lx wmscope-poll /proc/"$AGENT_PID"/task/*/comm | awk -F/ '{ print $5 }' | head -1)
    timeout -s INT "$TRACE_WINDOW" strace -tt -T -e trace=bpf,read,close -p "$poll_tid" -o "$WORK/$cond.strace" 2>/dev/null || true
    snaps=$(snapshot_times "$WORK/$cond.strace" | stats)
  fi
  local busy
  busy=$(( (b1 - b0) * 100 / (t1 - t0) ))
  foreign=$( (echo "$foreign"; foreign_programs) | tr ',' '\n' | { grep . || true; } | sort -u | paste -sd, -)
  wait "$lg" || true
  local summary records=- drops=-
  summary=$(grep '^mode=hold' "$hold" || echo "loadgen: $(tail -1 "$hold")")
  stop_pid "$lg"
  if [ -n "$AGENT_PID" ]; then
    for i in $(seq 1 40); do [ "$(agent_records "$out")" -ge "$CONNS" ] && break; sleep 0.25; done
    drops=$(agent_drops)
    agent_stop_counting "$out"
    records=$AGENT_RECORDS
  fi
  stop_pid "$SERVER_MAIN"
  if [ -n "$idle_lg" ]; then
    stop_pid "$idle_lg"
    stop_pid "$SERVER_IDLE"
  fi
  local est echoed sent maxwait
  est=$(kv established "$summary") echoed=$(kv echoed "$summary") sent=$(kv sent "$summary") maxwait=$(kv max_echo_wait_ms "$summary")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cond" "$est" "$sent" "$echoed" "$maxwait" \
    "$acpu" "$perpoll" "$nojit" "$nojitpoll" "$rss" "$hwm" "$records" "$drops" "$busy" "${foreign:--}" >>"$ROWS"
  {
    echo "### $cond"
    echo
    echo "- loadgen: $summary"
    echo "- TCP sockets on the host during the window: $all_tcp (TIME_WAIT: $tw); full live reads walk all of them (fullwalk: every read; otherwise every tenth), the others only the tracked ones"
    [ "$cond" = adopt ] && echo "- agent start to attached, with $est connections already open: ${adopt_s} s"
    if [ -n "$threads" ]; then
      echo "- agent CPU by thread over ${CPU_WINDOW} s: $threads"
      echo "- live-state read (one iterator pass, tracked or full, from bpf(BPF_ITER_CREATE) to close, strace -T): ms $snaps"
      echo "- JVM native memory tracking (committed):"
      echo
      echo '```'
      echo "$nmt"
      echo '```'
    fi
    echo
  } >>"$DETAILS"
  log "$cond: established $est, echoed $echoed/$sent, max echo wait ${maxwait} ms, agent cpu $acpu% = ${perpoll} ms/poll, rss $rss MiB (peak $hwm), snapshots: $snaps, records $records/$CONNS, drops $drops, foreign: ${foreign:--}"
}

IFS=, read -r -a CONDS <<<"$CONDITIONS"
for cond in "${CONDS[@]}"; do
  case $cond in none | wmscope | adopt | fullwalk) run_one "$cond" ;; *) die "unknown condition $cond" ;; esac
done

{
  echo "# Long-lived connections — $(date -u +%F)"
  echo
  machine_header
  echo "- load: loadgen hold, $CONNS connections to the epoll C server (1 thread), one 16-byte line per connection every ${INTERVAL} ms, ${SECS} s; agent $(agent_output_desc) with \`--poll-interval $POLL\`, launcher JVM defaults plus -XX:NativeMemoryTracking=summary"
  echo "- other sockets on the host: $IDLE idle connections to an unwatched echo server (both ends: $((IDLE * 2)) sockets) held through every run"
  echo "- fullwalk = wmscope with WMSCOPE_DISABLE_FEATURES=tracked_iter (every live read walks all TCP sockets)"
  echo
  echo "| condition | established | echoes sent | echoed | max echo wait ms | agent CPU % of a core | agent CPU ms per poll | same without JIT compiler threads: % | ms per poll | RSS MiB | peak RSS MiB | close records | drops | machine busy % | foreign BPF programs |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' "$ROWS"
  echo
  echo "## Details"
  echo
  cat "$DETAILS"
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
