#!/usr/bin/env bash
# What keeping per-connection state costs the kernel, where wmscope keeps it and the alternatives:
# the hooks alone, socket-local storage deleted at close (wmscope), the same left for the kernel
# to free with the socket, and a preallocated cookie-keyed hash gated by a sock_ops callback flag
# (bench/bpf/conn_state_cost.bpf.c has the variants). Churn against the epoll C server, the
# variants interleaved with no program at all, each round in a rotating order.
#
#   bench/state-cost.sh [--rounds N] [--seconds S] [--variants none,EMPTY,...] [--no-stats]
#
# Reports per variant: conn/s and its ratio to the same round's none, BPF run time per
# connection (kernel.bpf_stats_enabled, on only during the script; it adds two clock reads per
# program run, ~25 ns; --no-stats leaves it off, for ratios without that cost) and the machine's busy CPU per connection (/proc/stat: includes what
# the kernel does outside the programs, e.g. freeing storage). Writes
# bench/results/state-cost-DATE.md. Root; about 4 minutes with the defaults.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=3 SECS=10 CONC=64 STATS=1
VARIANTS=(none EMPTY STORAGE LINGER HASH)
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --variants) IFS=, read -r -a VARIANTS <<<"$2"; shift 2 ;;
    --no-stats) STATS=0; shift ;;
    *) die "usage: $0 [--rounds N] [--seconds S] [--variants none,EMPTY,STORAGE,LINGER,HASH,HASHMA] [--no-stats]" ;;
  esac
done
[ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || die "--rounds >= 1, --seconds 1..60"
for v in "${VARIANTS[@]}"; do
  case $v in none | EMPTY | STORAGE | LINGER | HASH | HASHMA) ;; *) die "unknown variant $v (none, EMPTY, STORAGE, LINGER, HASH, HASHMA)" ;; esac
done
[[ " ${VARIANTS[*]} " == *" none "* ]] || die "--variants must include none (the ratios are to it)"

bench_packages
bench_init $((300 + ROUNDS * (SECS + 20) * ${#VARIANTS[@]})) # with margin
find_jdk25 # only for the results header
[ "$STATS" = 1 ] && bpf_stats_on
build_tools
gcc -O2 -Wall -Wextra -Werror -o "$WORK/bpf_runner" "$BENCH_DIR/c/bpf_runner.c" -lbpf || die "compile bpf_runner.c"
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
for v in "${VARIANTS[@]}"; do
  [ "$v" = none ] && continue
  clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -DVARIANT_"$v" -Wall -Werror -I"$REPO_DIR/bpf" \
    -c "$BENCH_DIR/bpf/conn_state_cost.bpf.c" -o "$WORK/state-$v.bpf.o" || die "compile conn_state_cost.bpf.c ($v)"
done
mkdir -p "$RESULTS_DIR"
RESULT=$(result_file state-cost)
ROWS=$WORK/rows.tsv # round variant rate established bpf_ns_per_conn cpu_us_per_conn busy
: >"$ROWS"

PORT=$(free_port)
server_c "$PORT"

run_variant() { # run_variant ROUND VARIANT
  local round=$1 v=$2 runner="" out=$WORK/runner-$1-$2.out line n b0 t0 b1 t1 bpf_ns
  wait_quiet 10
  if [ "$v" != none ]; then
    "$WORK/bpf_runner" "$WORK/state-$v.bpf.o" "$CGROUP_ROOT" "$PORT" $((SECS + 4)) >"$out" &
    runner=$!
    BENCH_PIDS+=("$runner")
    local i
    for i in $(seq 1 50); do grep -q ready "$out" && break; sleep 0.1; done
    grep -q ready "$out" || die "bpf_runner did not attach $v"
  fi
  read -r b0 t0 < <(machine_jiffies)
  line=$("$WORK/loadgen" churn -p "$PORT" -c "$CONC" -d "$SECS" -s 16)
  read -r b1 t1 < <(machine_jiffies)
  n=$(kv established "$line")
  bpf_ns=-
  if [ -n "$runner" ]; then
    wait "$runner" || die "bpf_runner $v failed"
    [ "$STATS" = 1 ] && bpf_ns=$(awk -v n="$n" 'NF == 3 { ns += $3 } END { printf "%.0f", n ? ns / n : 0 }' "$out")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$v" "$(kv rate "$line")" "$n" "$bpf_ns" \
    "$(awk -v b=$((b1 - b0)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", n ? b / hz / n * 1e6 : 0 }')" \
    "$(( (b1 - b0) * 100 / (t1 - t0) ))" >>"$ROWS"
  log "round $round $v: $(tail -1 "$ROWS" | cut -f3-)"
}

"$WORK/loadgen" churn -p "$PORT" -c "$CONC" -d 5 -s 16 >/dev/null # warm-up: the host's caches, not a JIT
for round in $(seq 1 "$ROUNDS"); do
  # rotate the order each round so no variant always follows the same one
  for i in $(seq 0 $((${#VARIANTS[@]} - 1))); do
    run_variant "$round" "${VARIANTS[$(( (i + round - 1) % ${#VARIANTS[@]} ))]}"
  done
done

{
  echo "# Cost of per-connection state in the kernel — $(date -u +%F)"
  echo
  machine_header
  echo "- load: loadgen churn against the epoll C server (one thread), $CONC in flight, ${SECS} s per run, $ROUNDS rounds, order rotating; BPF run-time statistics $([ "$STATS" = 1 ] && echo on || echo off); variants in bench/bpf/conn_state_cost.bpf.c (144-byte value, the size of wmscope's record)"
  echo
  echo "| variant | conn/s (median) | ratio to the same round's none: median (per round) | BPF ns per connection (median) | machine CPU µs per connection (median) |"
  echo "|---|---|---|---|---|"
  for v in "${VARIANTS[@]}"; do
    printf '| %s | %.0f | %s | %s | %s |\n' "$v" "$(col "$v" 3 | median)" \
      "$(paired_ratios 1 2 3 "$v" <"$ROWS" | median_of_list)" \
      "$([ "$v" = none ] || [ "$STATS" = 0 ] && echo - || col "$v" 5 | median)" "$(col "$v" 6 | median)"
  done
  echo
  echo "## Every run"
  echo
  echo "| round | variant | conn/s | established | BPF ns per connection | machine CPU µs per connection | machine busy % |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' '{ out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' "$ROWS"
  echo
  echo "BPF ns: run time of both programs over the run divided by the connections established (with run-time statistics on). Machine CPU: busy jiffies of both CPUs over the run per connection."
} >"$RESULT"
log "wrote $RESULT"
cat "$RESULT"
