# Shared by bench/*.sh: tools, the three monitor conditions, process and BPF cleanup, statistics.
# Sourced, not run. Every function that starts something registers it for cleanup_all, which
# the scripts run from an EXIT/INT/TERM trap: no process, BPF program or pin survives a run,
# also when it fails or is interrupted.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
RESULTS_DIR=$BENCH_DIR/results
STANDIN_PHP=$REPO_DIR/agent/src/main/resources/dev/wmscope/agent/standin/workerman-standin.php
. "$REPO_DIR/scripts/lib.sh" # die, find_jdk25

BENCH_PIDS=()          # our processes, stopped in reverse order by cleanup_all
COUNTER_PIN=""         # pinned minimal sock_ops counter while attached
NOTRACK_TABLE=""       # nftables table exempting our loopback ports from conntrack
AGENT_PID=""
WORK=""
CLK_TCK=$(getconf CLK_TCK)
PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Debian packages the benchmarks need (wrk only for keepalive.sh).
bench_packages() {
  local want=(gcc clang libbpf-dev bpftool php-cli curl jq "$@") missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]}; run as root or install them"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# Creates the scratch directory, installs the cleanup trap and a watchdog that ends the run
# after $1 seconds whatever happens.
bench_init() {
  local max_seconds=$1
  [ "$(id -u)" -eq 0 ] || die "benchmarks load BPF programs: run as root"
  WORK=$(mktemp -d /tmp/wmscope-bench.XXXXXX)
  trap cleanup_all EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  # the watchdog signals this shell, whose trap then cleans up
  # (one-second sleeps, so stopping the watchdog leaves no sleeper behind for long)
  local main=$$
  (
    end=$((SECONDS + max_seconds))
    while [ $SECONDS -lt $end ]; do
      sleep 1
      kill -0 "$main" 2>/dev/null || exit 0 # the run is over
    done
    log "watchdog: run exceeded ${max_seconds}s, stopping"
    kill -TERM "$main"
  ) >/dev/null &
  BENCH_PIDS+=($!)
  CGROUP_ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  [ -n "$CGROUP_ROOT" ] || die "no cgroup2 mount in /proc/mounts"
}

# Stops our processes (SIGTERM, then SIGKILL after 10 s), detaches and unpins the counter.
cleanup_all() {
  local rc=$? pid i
  trap - EXIT INT TERM
  set +e # clean up everything, whatever fails
  [ -n "$AGENT_PID" ] && agent_stop
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${BENCH_PIDS[i]}
    kill -TERM "$pid" 2>/dev/null
  done
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${BENCH_PIDS[i]}
    wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
  done
  BENCH_PIDS=()
  counter_stop
  notrack_stop
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$rc" -ne 0 ]; then
      log "logs kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  if bpftool prog show 2>/dev/null | grep -q bench_conncount; then
    log "WARNING: a bench_conncount program is still loaded (another run?)"
  fi
  exit "$rc"
}

# wait_gone PID SECONDS: true once PID has exited (reaped if it is our child).
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    # a zombie child counts as gone; wait reaps it
    if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || true
  return 0
}

# stop_pid PID: SIGTERM, wait up to 10 s, SIGKILL; forgets it.
stop_pid() {
  local pid=$1 keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || { kill -KILL "$pid" 2>/dev/null; wait_gone "$pid" 5 || true; }
  for p in "${BENCH_PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# Compiles the C server, the load generator and the minimal counter into $WORK.
build_tools() {
  gcc -O2 -Wall -Wextra -Werror -pthread -o "$WORK/echo_server" "$BENCH_DIR/c/echo_server.c" ||
    die "compile echo_server.c"
  gcc -O2 -Wall -Wextra -Werror -o "$WORK/loadgen" "$BENCH_DIR/c/loadgen.c" || die "compile loadgen.c"
  gcc -O2 -Wall -Wextra -Werror -o "$WORK/wsload" "$BENCH_DIR/c/wsload.c" || die "compile wsload.c"
  local arch_inc
  arch_inc=/usr/include/$(gcc -print-multiarch)
  clang -g -O2 -target bpf -Wall -Werror -I"$arch_inc" \
    -c "$BENCH_DIR/bpf/conn_counter.bpf.c" -o "$WORK/conn_counter.bpf.o" || die "compile conn_counter.bpf.c"
}

# Copies the agent jar into $WORK (a rebuild in the tree cannot swap it mid-run). WMSCOPE_JAR
# picks a jar; else agent/target/wmscope.jar, built with Maven if it is missing.
prepare_agent() {
  find_jdk25
  local jar=${WMSCOPE_JAR:-$REPO_DIR/agent/target/wmscope.jar}
  if [ ! -f "$jar" ]; then
    log "building $jar"
    (cd "$REPO_DIR" && mvn -q -B -ntp -DskipTests package) || die "mvn package failed"
  fi
  # laid out like the distribution, so the agent runs through its launcher (bin/wmscope) with
  # the JVM options an installed agent gets
  mkdir -p "$WORK/agent/bin" "$WORK/agent/lib"
  cp "$jar" "$WORK/agent/lib/wmscope.jar"
  cp "$REPO_DIR/agent/src/dist/bin/wmscope" "$WORK/agent/bin/wmscope"
  AGENT_JAR_INFO="$(sha256sum "$jar" | cut -c1-12) built $(date -u -r "$jar" +%FT%TZ) from $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- agent loader otel-bridge bpf || echo '+uncommitted')"
}

# A free loopback TCP port (kernel-chosen).
free_port() {
  php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];'
}

## Servers ------------------------------------------------------------------------------------

# server_c PORT [THREADS [WORK_US]]: starts the epoll echo server (WORK_US: CPU time it spends per
# request before echoing, a handler's work); sets SERVER_PIDS.
server_c() {
  local port=$1 threads=${2:-1} work=${3:-0} out=$WORK/server-$1.out
  notrack_port "$port"
  "$WORK/echo_server" -p "$port" -t "$threads" -T 1800 -w "$work" >"$out" 2>&1 &
  BENCH_PIDS+=($!)
  SERVER_MAIN=$!
  local i
  for i in $(seq 1 50); do grep -q ready "$out" && break; sleep 0.1; done
  grep -q ready "$out" || die "echo_server did not start: $(cat "$out")"
  SERVER_PIDS=("$SERVER_MAIN")
}

# The stand-in writes its per-worker stats file at most every 200 ms here (its default, after
# every accept and close, is for the tests; two file writes per connection made its rate swing
# by up to 50% between runs). Readers wait 1 s after the load.
# server_standin PORT PROTOCOL COUNT: starts the Workerman stand-in (foreground master, COUNT
# workers with reusePort); sets SERVER_MAIN (master) and SERVER_PIDS (workers).
server_standin() {
  local port=$1 proto=$2 count=$3 dir=$WORK/standin-$1
  notrack_port "$port"
  mkdir -p "$dir"
  local config
  config=$(jq -cn --arg sf "$dir/start.php" --arg pf "$dir/standin.pid" --arg sd "$dir/stats" \
    --arg proto "$proto" --argjson port "$port" --argjson count "$count" \
    '{start_file: $sf, pid_file: $pf, stats_dir: $sd, stop_timeout: 2, stats_every_ms: 200,
      workers: [{name: "bench", protocol: $proto, host: "127.0.0.1", port: $port,
                 count: $count, reusePort: true}]}')
  STANDIN_CONFIG=$config
  WMSCOPE_STANDIN_CONFIG=$config php "$STANDIN_PHP" start >"$dir/out.log" 2>&1 &
  BENCH_PIDS+=($!)
  SERVER_MAIN=$!
  local i n
  for i in $(seq 1 100); do
    n=$(jq '[.workers[]?] | length' "$dir/stats/master.json" 2>/dev/null || echo 0)
    [ "$n" -ge "$count" ] && [ "$(ls "$dir"/stats/[0-9]*.json 2>/dev/null | wc -l)" -ge "$count" ] && break
    sleep 0.1
  done
  [ "${n:-0}" -ge "$count" ] || die "stand-in did not start: $(cat "$dir/out.log")"
  mapfile -t SERVER_PIDS < <(jq -r '.workers[].pid' "$dir/stats/master.json")
  STANDIN_STATS=$dir/stats
}

# Connections the stand-in's workers accepted so far (their stats files).
standin_accepted() {
  cat "$STANDIN_STATS"/[0-9]*.json 2>/dev/null | jq -s '[.[].accepted] | add // 0'
}

## Connection tracking ---------------------------------------------------------------------------

# When netfilter connection tracking is loaded (container networking loads it), every loopback
# connection of a churn run takes a conntrack entry for 120 s after it closes (TIME_WAIT);
# at 25,000 connections/s both ends' entries fill nf_conntrack_max within seconds and the
# kernel then drops SYNs: a run would measure the conntrack table, not the server or wmscope.
# notrack_port PORT exempts loopback packets to and from PORT (only those) in a table of our
# own, deleted at exit.
notrack_port() {
  [ -e /proc/sys/net/netfilter/nf_conntrack_count ] || return 0
  command -v nft >/dev/null || { log "WARNING: conntrack is on and nft is missing: churn may hit nf_conntrack_max"; return 0; }
  if [ -z "$NOTRACK_TABLE" ]; then
    NOTRACK_TABLE=bench_notrack_$$
    nft -f - <<NFT || { NOTRACK_TABLE=""; die "nft: could not create table inet bench_notrack_$$"; }
table inet $NOTRACK_TABLE {
  set ports { type inet_service; }
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    iifname "lo" tcp dport @ports notrack
    iifname "lo" tcp sport @ports notrack
  }
  chain out {
    type filter hook output priority raw; policy accept;
    oifname "lo" tcp dport @ports notrack
    oifname "lo" tcp sport @ports notrack
  }
}
NFT
  fi
  nft add element inet "$NOTRACK_TABLE" ports "{ $1 }"
}

notrack_stop() {
  [ -n "$NOTRACK_TABLE" ] || return 0
  nft delete table inet "$NOTRACK_TABLE" 2>/dev/null || log "WARNING: nft delete table inet $NOTRACK_TABLE failed"
  NOTRACK_TABLE=""
}

# Packets conntrack dropped so far (sum of the per-CPU "drop" column), 0 without conntrack.
conntrack_drops() {
  [ -r /proc/net/stat/nf_conntrack ] || { echo 0; return; }
  local col sum=0 hex
  col=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "drop") print i }' /proc/net/stat/nf_conntrack)
  [ -n "$col" ] || { echo 0; return; }
  for hex in $(awk -v c="$col" 'NR > 1 { print $c }' /proc/net/stat/nf_conntrack); do
    sum=$((sum + 16#$hex))
  done
  echo "$sum"
}

## Monitor conditions --------------------------------------------------------------------------

# Loads and attaches the minimal sock_ops counter (bench/bpf/conn_counter.bpf.c) on the cgroup
# v2 root with bpftool; cleanup_all detaches and unpins it.
counter_start() {
  COUNTER_PIN=/sys/fs/bpf/bench_conncount_$$
  bpftool prog load "$WORK/conn_counter.bpf.o" "$COUNTER_PIN" type sockops ||
    { COUNTER_PIN=""; die "bpftool prog load conn_counter"; }
  bpftool cgroup attach "$CGROUP_ROOT" sock_ops pinned "$COUNTER_PIN" multi ||
    die "bpftool cgroup attach $CGROUP_ROOT sock_ops"
}

# Passive (accepted) connections the counter saw since it was loaded.
counter_read() {
  local map
  map=$(bpftool prog show pinned "$COUNTER_PIN" -j | jq '.map_ids[0]')
  bpftool map dump id "$map" -j | jq '[.[] | select(.formatted.key == 0) | .formatted.values[].value] | add'
}

counter_stop() {
  [ -n "$COUNTER_PIN" ] || return 0
  bpftool cgroup detach "$CGROUP_ROOT" sock_ops pinned "$COUNTER_PIN" 2>/dev/null ||
    log "WARNING: bpftool cgroup detach failed (already detached?)"
  rm -f "$COUNTER_PIN"
  COUNTER_PIN=""
}

# agent_start PORT OUT [ARGS...]: runs the wmscope agent watching PORT, returns once it logged
# "attached sock_ops". Sets AGENT_PID and AGENT_HTTP (its /metrics). By default the agent runs as
# an operator runs it (no output format; records are counted from its own
# wmscope_connection_closed_total on /metrics); AGENT_OUTPUT=json adds `--format json` with one
# JSON line per closed connection to OUT, counted by line.
agent_start() {
  local port=$1 out=$2
  shift 2
  AGENT_HTTP=127.0.0.1:$(free_port)
  AGENT_LOG=$WORK/agent-$(date +%s%N).log
  local format=()
  [ "${AGENT_OUTPUT:-metrics}" = json ] && format=(--format json)
  # the launcher execs java, so $! is the JVM
  local selection=(--port "$port")
  [ "$port" = auto ] && selection=() # as installed: every Workerman app on the host, found by discovery
  WMSCOPE_JAVA_HOME=$JAVA_HOME WMSCOPE_JAVA_OPTS=${AGENT_JAVA_OPTS:-} "$WORK/agent/bin/wmscope" run \
    "${selection[@]}" "${format[@]}" --http-address "$AGENT_HTTP" "$@" >"$out" 2>"$AGENT_LOG" &
  AGENT_PID=$!
  local i
  for i in $(seq 1 300); do
    if grep -q "attached sock_ops" "$AGENT_LOG" 2>/dev/null; then
      # AGENT_NICE=N: every thread of the agent at nice N (a variant: what the workers keep when
      # the agent yields the CPU to them)
      if [ -n "${AGENT_NICE:-}" ]; then
        local t
        for t in /proc/"$AGENT_PID"/task/*; do renice -n "$AGENT_NICE" -p "${t##*/}" >/dev/null; done
      fi
      return 0
    fi
    kill -0 "$AGENT_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$AGENT_LOG" >&2
  die "agent did not attach"
}

# agent_records OUT: closed connections the running agent delivered (see agent_start).
agent_records() {
  if [ "${AGENT_OUTPUT:-metrics}" = json ]; then
    wc -l <"$1"
  else
    curl -s --max-time 5 "http://$AGENT_HTTP/metrics" |
      awk '/^wmscope_connection_closed_total/ { s += $NF } END { printf "%d\n", s }'
  fi
}

# agent_stop_counting OUT: stops the agent and sets AGENT_RECORDS to the closed connections it
# delivered: read from /metrics while it runs, or (JSON lines) counted once its exit flushed them.
agent_stop_counting() {
  if [ "${AGENT_OUTPUT:-metrics}" = json ]; then
    agent_stop
    AGENT_RECORDS=$(wc -l <"$1")
  else
    AGENT_RECORDS=$(agent_records "$1")
    agent_stop
  fi
}

# How the agent's output is described in results files.
agent_output_desc() {
  if [ "${AGENT_OUTPUT:-metrics}" = json ]; then
    echo '`run --port P --format json` (one JSON line per closed connection, to a file)'
  else
    echo '`run --port P` (defaults: spans and metrics made in the SDK, Prometheus /metrics, no OTLP endpoint); records = its wmscope_connection_closed_total'
  fi
}

# wmscope_events_dropped_total summed over reasons, from the agent's /metrics.
agent_drops() {
  curl -s --max-time 5 "http://$AGENT_HTTP/metrics" |
    awk '/^wmscope_events_dropped_total/ { s += $NF } END { printf "%d\n", s }'
}

# SIGTERM, wait for the clean exit (programs detached, writers flushed), SIGKILL after 20 s.
agent_stop() {
  [ -n "$AGENT_PID" ] || return 0
  kill -TERM "$AGENT_PID" 2>/dev/null || true
  if ! wait_gone "$AGENT_PID" 20; then
    log "WARNING: agent did not stop in 20 s, killing it"
    kill -KILL "$AGENT_PID" 2>/dev/null || true
    wait_gone "$AGENT_PID" 5 || true
  fi
  AGENT_PID=""
}

# Turns on BPF run-time statistics (kernel.bpf_stats_enabled, global: two clock reads per
# program run) for this run only: the EXIT trap restores the setting, then cleans up.
bpf_stats_on() {
  STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
  trap restore_stats EXIT
  sysctl -q kernel.bpf_stats_enabled=1
}

restore_stats() {
  local rc=$?
  sysctl -q kernel.bpf_stats_enabled="$STATS_BEFORE"
  (exit "$rc") # cleanup_all exits with the run's status
  cleanup_all
}

## Measurements --------------------------------------------------------------------------------

# wrk's latency percentile in microseconds: "     99%    1.23ms"
wrk_pct() {
  awk -v p="$1" '$1 == p { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
    f = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 60000000; printf "%.0f", v * f }' <<<"$2"
}

# agent_reported websocket|http (or any other word: http): what the running agent ($AGENT_HTTP) has reported so far, from
# its /metrics: HTTP requests (http_server_request_duration_seconds_count) or received WebSocket
# messages (wmscope_websocket_messages_total, direction receive)
agent_reported() {
  local series='/^http_server_request_duration_seconds_count/'
  [ "$1" = websocket ] && series='/^wmscope_websocket_messages_total/ && /network_io_direction="receive"/'
  curl -s --max-time 5 "http://$AGENT_HTTP/metrics" | awk "$series"' { s += $NF } END { printf "%d", s }'
}

# utime+stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat, after the comm).
cpu_ticks() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  awk '{ print $12 + $13 }' <<<"$s"
}

# Sum of cpu_ticks over PIDs.
cpu_ticks_sum() {
  local t=0 p
  for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done
  echo "$t"
}

# thread_ticks PID: "name utime stime" per thread name, pools merged ("GC Thread#1" -> "GC_Thread")
thread_ticks() {
  local t s n
  for t in /proc/"$1"/task/*; do
    s=$(cat "$t/stat" 2>/dev/null) || continue
    n=$(tr ' ' '_' <"$t/comm" | sed 's/#[0-9]*$//; s/-[0-9]*$//')
    s=${s##*) }
    echo "$n $(awk '{ print $12, $13 }' <<<"$s")"
  done | awk '{ u[$1] += $2; s[$1] += $3 } END { for (k in u) print k, u[k], s[k] }' | sort
}

# cpu_without_jit BEFORE AFTER SECONDS: % of a core used by all threads but the JIT compilers
# (which keep compiling for a minute or more after the agent starts) between two thread_ticks
cpu_without_jit() {
  join "$1" "$2" | awk -v hz="$CLK_TCK" -v w="$3" '$1 !~ /Compiler/ { t += $4 - $2 + $5 - $3 } END { printf "%.1f", t / hz / w * 100 }'
}

# rss_kb PID [VmRSS|VmHWM]
rss_kb() {
  awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Busy and total jiffies of the whole machine (/proc/stat "cpu" line).
machine_jiffies() {
  awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; total = busy + $5 + $6; print busy, total }' /proc/stat
}

# Programs that are not ours but run on every connection or packet: other wmscope agents or
# tests. A round that had some is marked, because it measured their cost too. Ours are the
# counter and the programs our agent holds (prog_id in /proc/AGENT_PID/fdinfo).
foreign_programs() {
  local ours=""
  if [ -n "$AGENT_PID" ]; then
    ours=$(cat /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { printf " %s ", $2 }')
  fi
  bpftool prog show 2>/dev/null |
    awk -v ours="$ours" '$2 ~ /sock_ops|tracing|cgroup_skb|sched_cls/ && $4 !~ /bench_conncount/ {
      id = $1; sub(":", "", id); if (index(ours, " " id " ") == 0) print $4 }' |
    sort | uniq -c | awk '{ printf "%s%s", sep, $2 (($1 > 1) ? "x" $1 : ""); sep = "," }'
}

# Waits (at most $1 s) until no foreign connection programs are loaded and the machine is
# mostly idle over one second, so a round does not start inside someone else's test run.
wait_quiet() {
  local limit=${1:-30} deadline=$((SECONDS + ${1:-30})) a b busy
  while [ $SECONDS -lt $deadline ]; do
    read -r b1 t1 < <(machine_jiffies)
    sleep 1
    read -r b2 t2 < <(machine_jiffies)
    busy=$(( (b2 - b1) * 100 / (t2 - t1 > 0 ? t2 - t1 : 1) ))
    [ -z "$(foreign_programs)" ] && [ "$busy" -lt 15 ] && return 0
  done
  log "machine not quiet after ${limit}s (busy ${busy}%, foreign programs: $(foreign_programs)); measuring anyway"
}

# wait_timewait MAX SECONDS: waits (bounded) until the host holds fewer than MAX TIME_WAIT sockets.
# wmscope's live read walks every TCP socket of the host once per poll, TIME_WAIT included, so
# the TIME_WAIT left by an earlier run would be charged to the next one (Linux keeps them 60 s).
wait_timewait() {
  local i tw
  for i in $(seq 1 "$2"); do
    tw=$(ss -tan state time-wait | tail -n +2 | wc -l)
    [ "$tw" -lt "$1" ] && return 0
    sleep 1
  done
  log "still $tw TIME_WAIT sockets after $2 s; measuring anyway"
}

# median / min / max / spread of numbers on stdin (spread = (max-min)/median, in %).
stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n=0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median=%.1f min=%.1f max=%.1f spread=%.1f%%\n", m, v[1], v[NR], m ? (v[NR] - v[1]) * 100 / m : 0
  }'
}

# col COND FIELD: FIELD of every row of $ROWS whose second column is COND, "-" left out
col() { awk -F'\t' -v c="$1" -v f="$2" '$2 == c && $f != "-" { print $f }' "$ROWS"; }

# paired_ratios ROUND_COL COND_COL VALUE_COL COND: per round (rows of a TSV on stdin, in round
# order), COND's value over the same round's "none". Each round's conditions run back to back,
# so the pairing cancels most of the host's own drift between rounds (see Noise in README.md).
paired_ratios() {
  awk -F'\t' -v rc="$1" -v cc="$2" -v vc="$3" -v c="$4" '
    { v[$rc FS $cc] = $vc; if (!($rc in seen)) { seen[$rc] = 1; order[++n] = $rc } }
    END { for (i = 1; i <= n; i++) { r = order[i]; if ((r FS "none") in v && (r FS c) in v && v[r FS "none"] > 0)
            printf "%.3f\n", v[r FS c] / v[r FS "none"] } }'
}

# "median (r1, r2, ...)" of the numbers on stdin, kept in their order
median_of_list() {
  local list
  list=$(cat)
  [ -n "$list" ] || { echo "-"; return; }
  printf '%.3f (%s)' "$(median <<<"$list")" "$(paste -sd, <<<"$list" | sed 's/,/, /g')"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# kv KEY LINE: the value of KEY=... in a key=value line
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# result_file NAME: bench/results/NAME-DATE.md, or NAME-DATE-TAG.md with RESULT_TAG=TAG (e.g. a
# run with other JVM options that should not replace the day's main result)
# A run never overwrites an earlier one: a second run of the day gets the time appended.
result_file() {
  local f=$RESULTS_DIR/$1-$(date -u +%F)${RESULT_TAG:+-$RESULT_TAG}
  [ -e "$f.md" ] && f=$f-$(date -u +%H%M)
  echo "$f.md"
}

machine_header() {
  cat <<EOF
- date: $(date -u +%FT%TZ)
- host: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)
- agent jar: ${AGENT_JAR_INFO:-n/a}, run through the launcher bin/wmscope (its JVM defaults: -Xmx96m -XX:+UseSerialGC)${AGENT_JAVA_OPTS:+, WMSCOPE_JAVA_OPTS: $AGENT_JAVA_OPTS}${AGENT_NICE:+, every agent thread at nice $AGENT_NICE}, JDK $("$JAVA_HOME/bin/java" -version 2>&1 | awk -F'"' 'NR == 1 { print $2 }')
- repository: $(git -C "$REPO_DIR" rev-parse --short HEAD)
EOF
}
