#!/usr/bin/env bash
# Soak: long-lived connections with traffic plus steady churn for M minutes, against one agent:
# every connection tracked and reported, the active gauge exact, and RSS flat (its slope).
#
#   bench/soak.sh [--minutes M] [--connections N] [--churn-rate R] [--check]
#
# The epoll C echo server holds N connections from `loadgen hold` (one 16-byte line per
# connection per second) while `loadgen churn` opens and closes R connections/s (64 in flight)
# to the same port. Every 10 s: the agent's RSS, its `wmscope_connection_active` for the port
# and the closed connections it reported. The churn stops 15 s before the hold ends, so the last
# samples of the active gauge must read exactly N. At the end every connection (N + the churn's)
# must be a close record, with no drop. The RSS slope is a least-squares fit over the samples
# after the first minute (warm-up, JIT, heap growth to its working size), in MiB per hour.
# Writes bench/results/soak-DATE.md. Root; M + about 2 minutes (default M = 10). With --check
# (the short soak CI runs) it exits 1 unless every connection is a close record, nothing was
# dropped and the active gauge read exactly N after the churn; RSS is reported, never judged.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MINUTES=10 CONNS=10000 RATE=500 CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --churn-rate) RATE=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) die "usage: $0 [--minutes M] [--connections N] [--churn-rate R] [--check]" ;;
  esac
done
[[ "$MINUTES" =~ ^[0-9]+$ ]] && [ "$MINUTES" -ge 2 ] && [ "$MINUTES" -le 60 ] || die "--minutes 2..60"
[[ "$CONNS" =~ ^[0-9]+$ ]] && [ "$CONNS" -le 20000 ] || die "--connections 0..20000"
[[ "$RATE" =~ ^[0-9]+$ ]] && [ "$RATE" -le 5000 ] || die "--churn-rate 0..5000 connections/s"
SECS=$((MINUTES * 60))

bench_init $((SECS + 300))
bench_packages
ulimit -n $((CONNS * 2 + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
build_tools
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file soak)
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"

port=$(free_port)
server_c "$port" 1
wait_quiet 20
out=$WORK/agent.out
agent_start "$port" "$out"
log "agent pid $AGENT_PID on port $port; holding $CONNS connections, churn $RATE/s for $MINUTES min"

hold=$WORK/hold.out
"$WORK/loadgen" hold -p "$port" -n "$CONNS" -d "$SECS" -i 1000 -R 5000 >"$hold" 2>&1 &
HOLD_PID=$!
BENCH_PIDS+=("$HOLD_PID")
for i in $(seq 1 700); do grep -q '^ready' "$hold" && break; sleep 0.1; done
grep -q '^ready' "$hold" || die "loadgen hold did not get ready: $(cat "$hold")"
churn=$WORK/churn.out
CHURN_SECS=$((SECS - 15))
"$WORK/loadgen" churn -p "$port" -c 64 -r "$RATE" -d "$CHURN_SECS" >"$churn" 2>&1 &
CHURN_PID=$!
BENCH_PIDS+=("$CHURN_PID")

# active PORT: the agent's wmscope_connection_active for the watched port
active() {
  curl -s --max-time 5 "http://$AGENT_HTTP/metrics" |
    awk -v p="server_port=\"$1\"" '/^wmscope_connection_active\{/ && index($0, p) { s += $NF } END { printf "%d\n", s }'
}

t0=$SECONDS
while kill -0 "$HOLD_PID" 2>/dev/null; do
  sleep 10
  kill -0 "$HOLD_PID" 2>/dev/null || break
  churning=1
  kill -0 "$CHURN_PID" 2>/dev/null || churning=0
  printf '%d\t%d\t%d\t%d\t%d\n' $((SECONDS - t0)) "$(( $(rss_kb "$AGENT_PID") / 1024 ))" "$(active "$port")" \
    "$(agent_records "$out")" "$churning" >>"$SAMPLES"
done
wait "$CHURN_PID" || true
churn_line=$(grep '^mode=churn' "$churn" || tail -1 "$churn")
hold_line=$(grep '^mode=hold' "$hold" || tail -1 "$hold")
churned=$(kv established "$churn_line")
held=$(kv established "$hold_line")
expected=$((churned + held))
for i in $(seq 1 60); do [ "$(agent_records "$out")" -ge "$expected" ] && break; sleep 0.5; done
drops=$(agent_drops)
rss_end=$(( $(rss_kb "$AGENT_PID") / 1024 )) hwm=$(( $(rss_kb "$AGENT_PID" VmHWM) / 1024 ))
agent_stop_counting "$out"
records=$AGENT_RECORDS
stop_pid "$SERVER_MAIN"

# the last samples without churn: the gauge must read the held connections exactly
quiet=$(awk -F'\t' '$5 == 0 { print $3 }' "$SAMPLES" | paste -sd' ' -)
slope=$(awk -F'\t' '$1 >= 60 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
  END { if (n < 2 || n * sxx == sx * sx) { print "-"; exit } printf "%.1f", (n * sxy - sx * sy) / (n * sxx - sx * sx) * 3600 }' "$SAMPLES")
rss_range=$(awk -F'\t' '$1 >= 60 { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 } END { print min "-" max }' "$SAMPLES")

{
  echo "# Soak — $(date -u +%F)"
  echo
  machine_header
  echo "- load: $MINUTES min; loadgen hold, $CONNS connections to the epoll C server, one 16-byte line per connection per second; loadgen churn at $RATE conn/s (64 in flight) to the same port, stopping 15 s before the hold ends; agent $(agent_output_desc)"
  echo
  echo "| measurement | result |"
  echo "|---|---|"
  echo "| held connections | $held of $CONNS established |"
  echo "| churned connections | $churned ($churn_line) |"
  echo "| close records / connections | $records / $expected $([ "$records" -eq "$expected" ] && echo "(all)" || echo "(MISSING $((expected - records)))") |"
  echo "| kernel drops | $drops |"
  echo "| active gauge after the churn stopped (must be $held) | $quiet |"
  echo "| agent RSS after the first minute | $rss_range MiB; slope **$slope MiB/h**; at the end $rss_end MiB (peak $hwm) |"
  echo
  echo "## Samples (s, RSS MiB, active gauge, closed so far, churn running)"
  echo
  echo '```'
  cat "$SAMPLES"
  echo '```'
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
if [ "$CHECK" -eq 1 ]; then
  bad=""
  [ "$held" -eq "$CONNS" ] || bad+=" held $held of $CONNS;"
  [ "$records" -eq "$expected" ] || bad+=" close records $records, connections $expected;"
  [ "$drops" = 0 ] || bad+=" kernel drops: $drops;"
  [ -n "$quiet" ] || bad+=" no sample after the churn stopped;"
  for a in $quiet; do [ "$a" -eq "$held" ] || { bad+=" active gauge read $a, not $held;"; break; }; done
  [ -z "$bad" ] || die "soak check failed:$bad"
  log "soak check passed: $records/$expected close records, 0 drops, active exactly $held after the churn"
fi
