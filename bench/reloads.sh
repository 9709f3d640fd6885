#!/usr/bin/env bash
# Reloads: the metric series and memory of the agent across R Workerman reloads.
#
#   bench/reloads.sh [--reloads R] [--workers W] [--conns C]
#
# The PHP stand-in (W reusePort text workers) is reloaded R times (every worker replaced, new
# pids); after each reload C connections each send a line and close, so every generation of
# workers has connection series. Two agents run side by side on the same app: one with the
# default expiry of exited processes' series at a short retention (--series-retention 5s), one
# that keeps them (--series-retention 24h: what a synchronous-instrument bridge does). Every 10
# reloads: the series with a process_pid label on each agent's /metrics, the size of /metrics,
# the heap in use after a full GC (jcmd GC.run) (jvm_memory_used_bytes, heap) and RSS.
# Writes bench/results/reloads-DATE.md. Root; about 2 s per reload (default R = 100: ~4 min).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RELOADS=100 WORKERS=4 CONNS=20
while [ $# -gt 0 ]; do
  case $1 in
    --reloads) RELOADS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    *) die "usage: $0 [--reloads R] [--workers W] [--conns C]" ;;
  esac
done
[[ "$RELOADS" =~ ^[0-9]+$ ]] && [ "$RELOADS" -ge 10 ] && [ "$RELOADS" -le 1000 ] || die "--reloads 10..1000"
[[ "$WORKERS" =~ ^[0-9]+$ ]] && [ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 32 ] || die "--workers 1..32"
[[ "$CONNS" =~ ^[0-9]+$ ]] && [ "$CONNS" -ge 1 ] && [ "$CONNS" -le 1000 ] || die "--conns 1..1000"

bench_init $((RELOADS * 10 + 300))
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file reloads)
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"

port=$(free_port)
server_standin "$port" text "$WORKERS"
lock_a=$WORK/a.lock lock_b=$WORK/b.lock
agent_start "$port" "$WORK/a.out" --series-retention 5s --lock-file "$lock_a"
pid_a=$AGENT_PID http_a=$AGENT_HTTP
AGENT_PID=""
agent_start "$port" "$WORK/b.out" --series-retention 24h --lock-file "$lock_b"
pid_b=$AGENT_PID http_b=$AGENT_HTTP
BENCH_PIDS+=("$pid_a" "$pid_b")
log "agents $pid_a (expiring) and $pid_b (keeping) on port $port; $RELOADS reloads of $WORKERS workers"

# sample HTTP PID: pid-labelled series, /metrics bytes, heap MiB, RSS MiB
sample() {
  local body
  "$JAVA_HOME/bin/jcmd" "$2" GC.run >/dev/null 2>&1 || true
  body=$(curl -s --max-time 10 "http://$1/metrics")
  printf '%d\t%d\t%.1f\t%d' \
    "$(grep -c 'process_pid="' <<<"$body")" "${#body}" \
    "$(awk '/^jvm_memory_used_bytes\{/ && /jvm_memory_type="heap"/ { s += $NF } END { print s / 1048576 }' <<<"$body")" \
    "$(( $(rss_kb "$2") / 1024 ))"
}

traffic() {
  local i line
  for i in $(seq 1 "$CONNS"); do
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    echo "reload $1 conn $i" >&3
    read -r -t 2 line <&3 || true
    exec 3>&-
  done
}

workers_now() { jq -r '[.workers[].pid] | sort | join(",")' "$STANDIN_STATS/master.json" 2>/dev/null; }

traffic 0
for r in $(seq 1 "$RELOADS"); do
  before=$(workers_now)
  WMSCOPE_STANDIN_CONFIG=$STANDIN_CONFIG php "$STANDIN_PHP" reload >/dev/null 2>&1 || die "reload $r failed"
  for i in $(seq 1 200); do
    now=$(workers_now)
    n=$(jq '[.workers[]?] | length' "$STANDIN_STATS/master.json" 2>/dev/null || echo 0)
    if [ "$n" -eq "$WORKERS" ] && ! grep -qE "(^|,)($(tr ',' '|' <<<"$before"))(,|$)" <<<"$now"; then
      break
    fi
    sleep 0.05
  done
  traffic "$r"
  if [ $((r % 10)) -eq 0 ]; then
    sleep 1
    printf '%d\t%s\t%s\n' "$r" "$(sample "$http_a" "$pid_a")" "$(sample "$http_b" "$pid_b")" >>"$SAMPLES"
    log "reload $r: $(tail -1 "$SAMPLES")"
  fi
done
# after the retention: the expiring agent keeps only the live workers' series
sleep 7
printf 'end+7s\t%s\t%s\n' "$(sample "$http_a" "$pid_a")" "$(sample "$http_b" "$pid_b")" >>"$SAMPLES"
accepted=$(standin_accepted)
kill -TERM "$pid_a" "$pid_b" 2>/dev/null || true
wait_gone "$pid_a" 20 || true
wait_gone "$pid_b" 20 || true
stop_pid "$SERVER_MAIN"

last=$(tail -1 "$SAMPLES")
{
  echo "# Series across reloads — $(date -u +%F)"
  echo
  machine_header
  echo "- load: $RELOADS reloads of the PHP stand-in ($WORKERS reusePort text workers, all replaced each time), $CONNS short connections after each; two agents side by side, \`--series-retention 5s\` (expiring) and \`--series-retention 24h\` (keeping, as synchronous counters would); agent $(agent_output_desc)"
  echo
  echo "| after | expiring: pid series | /metrics bytes | heap MiB | RSS MiB | keeping: pid series | /metrics bytes | heap MiB | RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$SAMPLES"
  echo
  echo "Connections the workers accepted in the last generations' stats: $accepted. pid series = lines of /metrics with a \`process_pid\` label (counters, gauges)."
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
