#!/usr/bin/env bash
# Smoke check of the Workerman stand-in by hand: 4 reusePort text workers on 127.0.0.1,
# their /proc titles (NULs shown as \0), a few echo connections, the per-worker accept counts,
# a reload (new worker pids), and a stop. Needs bash and php-cli; leaves nothing running.
#   agent/src/test/resources/discovery/standin-smoke.sh [port]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../../main/resources/dev/wmscope/agent/standin/workerman-standin.php"
port=${1:-23471}
work=$(mktemp -d)
start_file="/srv/smoke-$$/start.php"
export WMSCOPE_STANDIN_CONFIG="$work/config.json"
cat > "$WMSCOPE_STANDIN_CONFIG" <<EOF
{"start_file": "$start_file", "pid_file": "$work/master.pid", "stats_dir": "$work/stats",
 "workers": [{"name": "Chat Worker", "protocol": "text", "host": "127.0.0.1", "port": $port,
              "count": 4, "reusePort": true}]}
EOF

master=""
cleanup() {
  if [[ -n "$master" ]] && kill -0 "$master" 2>/dev/null; then
    kill -TERM "$master" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Waits (at most 10 s) until the master lists 4 workers, none of them in "$1".
wait_workers() {
  local old=" ${1:-} "
  for _ in $(seq 100); do
    if [[ -f "$work/stats/master.json" ]]; then
      local pids
      pids=$(grep -o '"pid":[0-9]*,"id"' "$work/stats/master.json" | grep -o '[0-9]*' || true)
      local n=0 ok=1
      for p in $pids; do
        n=$((n + 1))
        [[ "$old" == *" $p "* || ! -f "$work/stats/$p.json" ]] && ok=0
      done
      if [[ $n -eq 4 && $ok -eq 1 ]]; then echo $pids; return 0; fi
    fi
    sleep 0.1
  done
  echo "timed out waiting for workers" >&2
  return 1
}

show_titles() {
  for p in "$master" $1; do
    printf '%-7s ppid=%-7s comm=%-4s cmdline=%s\n' "$p" "$(awk '{print $4}' "/proc/$p/stat")" \
      "$(cat "/proc/$p/comm")" "$(sed 's/\x0/\\0/g' "/proc/$p/cmdline")"
  done
}

php "$script" start > "$work/start.log" 2>&1 &
master=$!
workers=$(wait_workers)
echo "== master $master, workers: $workers"
show_titles "$workers"

echo "== 8 echo connections"
for i in $(seq 8); do
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'hello %d\n' "$i" >&3
  read -r reply <&3
  exec 3>&-
  echo "sent 'hello $i', got '$reply'"
done
sleep 0.3
grep -ho '"pid":[0-9]*\|"accepted":[0-9]*' "$work"/stats/[0-9]*.json | paste - - | sed 's/"//g'

echo "== reload"
php "$script" reload
new=$(wait_workers "$workers")
echo "old: $workers"
echo "new: $new"
show_titles "$new"

echo "== stop"
php "$script" stop
wait "$master" 2>/dev/null || true
master=""
if pgrep -f "start_file=$start_file" > /dev/null; then echo "FAIL: still running"; exit 1; fi
echo "OK"
