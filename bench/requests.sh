#!/usr/bin/env bash
# Request telemetry's cost: requests/s of the Workerman stand-in's HTTP worker under wrk with no
# monitor, with wmscope and request capture off (--request-capture-bytes 0) and with wmscope and
# capture on (the default), side by side; and the rate of a socket ping-pong wmscope does not
# watch (wrk against a second stand-in on a port the agent does not watch), with and without
# the agent, since the send and receive tracepoints run for every socket of the host.
#
#   bench/requests.sh [--rounds N] [--seconds S] [--warmup S] [--connections C] [--variants LIST]
#
# Variants, each with its conditions interleaved and the order rotating every round:
#   keepalive  GET / ("hello\n"), C keep-alive connections
#   pipelined  10 requests per write (wrk's lua pipeline), C connections
#   large      GET /bytes/1048576 (1 MiB responses, partial writes), 4 connections
#   unwatched  GET / to a stand-in on a port the agent does not watch: none vs capture on
#   websocket  WebSocket echo (c/wsload.c): C connections to a stand-in websocket worker, one
#              64-byte text message in flight on each; "requests" are echoed messages, reported
#              = the agent's received-message count (wmscope_websocket_messages_total)
# Each run: an untimed wrk warm-up (default 3 s), then S seconds (default 10) measured. With
# capture on, the requests the agent reported (http_server_request_duration_seconds_count on its
# /metrics) are compared with the requests wrk made (warm-up and measured run). A last pass
# with kernel.bpf_stats_enabled=1 gives the BPF time per request of every program (it costs two
# clock reads per program run, so it is off while throughput is measured).
# Writes bench/results/requests-DATE.md. Root; about 15 minutes with the defaults.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=3 SECS=10 WARM=3 CONNS=32 VARIANTS=keepalive,pipelined,large,unwatched,websocket
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --warmup) WARM=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    *) die "usage: $0 [--rounds N] [--seconds S] [--warmup S] [--connections C] [--variants LIST]" ;;
  esac
done
[ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || die "--rounds >= 1, --seconds 1..60"

bench_packages wrk
bench_init $((600 + ROUNDS * (SECS + WARM + 30) * 11))
build_tools
prepare_agent
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file requests)
ROWS=$WORK/rows.tsv # variant round cond rps p99 reported made agent_cpu data_ring_drops unframed
: >"$ROWS"

PIPELINE_LUA=$WORK/pipeline.lua
cat >"$PIPELINE_LUA" <<'EOF'
-- ten GET / per write: pipelined requests, one response each
init = function(args)
  local r = {}
  for i = 1, 10 do r[i] = wrk.format("GET", "/") end
  req = table.concat(r)
end
request = function() return req end
EOF


# wrk_run VARIANT PORT SECONDS [--latency]: wrk's output
wrk_run() {
  local variant=$1 port=$2 secs=$3
  shift 3
  case $variant in
    keepalive | unwatched) wrk -t 1 -c "$CONNS" -d "${secs}s" "$@" "http://127.0.0.1:$port/" ;;
    pipelined) wrk -t 1 -c "$CONNS" -d "${secs}s" -s "$PIPELINE_LUA" "$@" "http://127.0.0.1:$port/" ;;
    large) wrk -t 1 -c 4 -d "${secs}s" "$@" "http://127.0.0.1:$port/bytes/1048576" ;;
    websocket) "$WORK/wsload" -p "$port" -c "$CONNS" -d "$secs" -m 64 ;;
  esac
}

# requests wrk made: "  123456 requests in 10.00s" (pipelined: wrk counts responses); messages
# wsload echoed: "mode=ws ... messages=M ..."
wrk_requests() {
  awk '/requests in/ { print $1 } /^mode=ws/ { for (i = 1; i <= NF; i++) if ($i ~ /^messages=/) print substr($i, 10) }' <<<"$1"
}

# requests/s (wrk), echoed messages/s (wsload)
load_rate() {
  awk '/^Requests\/sec:/ { print $2 }
    /^mode=ws/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } printf "%.2f\n", f["messages"] / f["seconds"] }' <<<"$1"
}


run_one() {
  local variant=$1 port=$2 round=$3 cond=$4 watch=$5
  wait_quiet 10
  case $cond in
    capture_off) agent_start "$watch" /dev/null --request-capture-bytes 0 ;;
    capture_on) agent_start "$watch" /dev/null ;;
  esac
  if [ -n "$AGENT_PID" ]; then
    sleep 1.5 # a discovery pass: the stand-in's port gets its capture flag
  fi
  local warm res a0=0 a1=0
  warm=$(wrk_run "$variant" "$port" "$WARM")
  [ -n "$AGENT_PID" ] && a0=$(cpu_ticks "$AGENT_PID")
  res=$(wrk_run "$variant" "$port" "$SECS" --latency)
  [ -n "$AGENT_PID" ] && a1=$(cpu_ticks "$AGENT_PID")
  local rps p99 made rep=- acpu=- ringdrops=- unframed=-
  rps=$(load_rate "$res")
  p99=$(wrk_pct 99% "$res")
  [ -n "$p99" ] || p99=-
  made=$(( $(wrk_requests "$warm") + $(wrk_requests "$res") ))
  if [ -n "$AGENT_PID" ]; then
    acpu=$(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v e="$SECS" 'BEGIN { printf "%.1f", t / hz / e * 100 }')
    if [ "$cond" = capture_on ] && [ "$variant" != unwatched ]; then
      local i
      for i in $(seq 1 20); do rep=$(agent_reported "$variant"); [ "$rep" -ge "$made" ] && break; sleep 0.5; done
      local framing
      framing=$(curl -s --max-time 5 "http://$AGENT_HTTP/api/agent" | jq -c '{requests, events_dropped}')
      log "$variant round $round: framing $framing"
      # why a request may be missing: records the data ring had no room for, and what framing lost
      ringdrops=$(jq -r '.events_dropped.data_ringbuf_full // 0' <<<"$framing")
      unframed=$(jq -r '[.requests.desyncs, .requests.unmatched_requests, .requests.unmatched_responses] | map(. // 0) | add' <<<"$framing")
    fi
    agent_stop
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$variant" "$round" "$cond" "$rps" "$p99" "$rep" "$made" "$acpu" \
    "$ringdrops" "$unframed" >>"$ROWS"
  log "$variant round $round $cond: $rps req/s, p99 ${p99} us, reported $rep of $made, agent cpu $acpu%"
}

watched=$(free_port)
server_standin "$watched" http 1
WATCHED_MAIN=$SERVER_MAIN
other=$(free_port)
server_standin "$other" http 1
OTHER_MAIN=$SERVER_MAIN
log "stand-ins: watched 127.0.0.1:$watched, unwatched 127.0.0.1:$other"
WS_MAIN=
if [[ ",$VARIANTS," == *",websocket,"* ]]; then
  wsport=$(free_port)
  server_standin "$wsport" websocket 1
  WS_MAIN=$SERVER_MAIN
  log "stand-in: websocket 127.0.0.1:$wsport"
fi

for variant in ${VARIANTS//,/ }; do
  watch=$watched
  if [ "$variant" = unwatched ]; then
    conds=(none capture_on)
    port=$other
  elif [ "$variant" = websocket ]; then
    conds=(none capture_off capture_on)
    port=$wsport
    watch=$wsport
  else
    conds=(none capture_off capture_on)
    port=$watched
  fi
  n=${#conds[@]}
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < n; k++)); do
      run_one "$variant" "$port" "$r" "${conds[(k + r - 1) % n]}" "$watch"
    done
  done
done

# BPF time per request, capture on, keep-alive and large
bpf_stats_on
PROFILE=$WORK/profile.md
: >"$PROFILE"
for variant in keepalive large websocket; do
  [[ ",$VARIANTS," == *",$variant,"* ]] || continue
  port=$watched
  [ "$variant" = websocket ] && port=$wsport
  agent_start "$port" /dev/null
  sleep 1.5
  wrk_run "$variant" "$port" 2 >/dev/null
  mapfile -t ids < <(cat /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un)
  for id in "${ids[@]}"; do bpftool prog show id "$id" -j | jq -r '"\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'; done >"$WORK/p0"
  res=$(wrk_run "$variant" "$port" "$SECS")
  for id in "${ids[@]}"; do bpftool prog show id "$id" -j | jq -r '"\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'; done >"$WORK/p1"
  reqs=$(wrk_requests "$res")
  {
    echo "### $variant ($reqs requests)"
    echo
    echo "| program | runs per request | ns per run | ns per request |"
    echo "|---|---|---|---|"
    join <(sort "$WORK/p0") <(sort "$WORK/p1") | awk -v n="$reqs" '{ runs = $6 - $3; ns = $7 - $4; tr += runs; tn += ns
        if (runs) printf "| %s | %.2f | %.0f | %.0f |\n", $2, runs / n, ns / runs, ns / n }
      END { printf "| **all** | %.2f | %.0f | **%.0f** |\n", tr / n, tr ? tn / tr : 0, tn / n }'
    echo
  } >>"$PROFILE"
  agent_stop
done
stop_pid "$WATCHED_MAIN"
stop_pid "$OTHER_MAIN"
[ -z "$WS_MAIN" ] || stop_pid "$WS_MAIN"

{
  echo "# Request telemetry cost (wrk, HTTP stand-in) — $(date -u +%F)"
  echo
  machine_header
  echo "- load: wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), 1 thread, $CONNS keep-alive connections (large: 4), ${WARM} s warm-up then ${SECS} s measured; stand-in: 1 worker, http protocol; $ROUNDS rounds, conditions rotating"
  echo "- capture_off: \`wmscope run --port P --request-capture-bytes 0\`; capture_on: \`wmscope run --port P\` (4096 bytes per read and send); unwatched: the agent watches the other stand-in's port"
  echo
  echo "## Summary"
  echo
  echo "| variant | condition | requests/s (median) | ratio to capture_off: paired median (per round) | ratio to none: paired median | p99 µs | requests reported / made | agent CPU % of a core |"
  echo "|---|---|---|---|---|---|---|---|"
  for variant in keepalive pipelined large unwatched websocket; do
    for cond in none capture_off capture_on; do
      awk -F'\t' -v v="$variant" -v c="$cond" '$1 == v && $3 == c' "$ROWS" | grep -q . || continue
      med=$(awk -F'\t' -v v="$variant" -v c="$cond" '$1 == v && $3 == c { print $4 }' "$ROWS" | median)
      p99=$(awk -F'\t' -v v="$variant" -v c="$cond" '$1 == v && $3 == c { print $5 }' "$ROWS" | median)
      acpu=$(awk -F'\t' -v v="$variant" -v c="$cond" '$1 == v && $3 == c && $8 != "-" { print $8 }' "$ROWS" | median)
      ratio() { # paired by round against condition $1
        awk -F'\t' -v v="$variant" -v c="$cond" -v b="$1" '$1 == v && $3 == b { base[$2] = $4 } $1 == v && $3 == c { x[$2] = $4 }
          END { for (r in x) if (base[r]) printf "%.3f\n", x[r] / base[r] }' "$ROWS" | sort -g |
          awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            s = ""; for (i = 1; i <= NR; i++) s = s (i > 1 ? ", " : "") v[i]; printf "%.3f (%s)", m, s }'
      }
      rep=$(awk -F'\t' -v v="$variant" -v c="$cond" '$1 == v && $3 == c && $6 != "-" { r += $6; m += $7; n++ } END { if (n) printf "%d / %d", r, m; else print "-" }' "$ROWS")
      printf '| %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$variant" "$cond" "$med" \
        "$([ "$cond" = capture_on ] && [ "$variant" != unwatched ] && ratio capture_off || echo -)" \
        "$([ "$cond" != none ] && ratio none || echo -)" "$p99" "$rep" "${acpu:--}"
    done
  done
  echo
  echo "## BPF time per request (capture on, kernel.bpf_stats_enabled=1 during this pass only)"
  echo
  cat "$PROFILE"
  echo "## Every run"
  echo
  echo "| variant | round | condition | requests/s | p99 µs | reported | made | agent CPU % | data ring drops | desyncs + unmatched |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' "$ROWS"
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
