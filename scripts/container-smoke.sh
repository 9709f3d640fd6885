#!/usr/bin/env bash
# Container smoke test: builds the image from the repository's unchanged Dockerfile with podman,
# runs it as an operator would (privileged, host PID namespace and cgroup tree), starts a
# Workerman stand-in on the host, drives loopback traffic with known byte counts to it, and checks
# that the agent in the container discovered the app through /proc and reported every connection
# exactly (JSON lines). Then it stops the container (SIGTERM: exit 0) and checks that none of the
# BPF programs the agent loaded is left in the kernel or attached to a cgroup.
#
#   scripts/container-smoke.sh            (root; podman is installed when missing)
#
# Base images: where ../shared/tools/local-base-images.sh exists (the CI machines, which reach
# no image registry) it prepares podman and local stand-ins for eclipse-temurin:25-jre and
# debian:bookworm, and this script adds one for eclipse-temurin:25-jdk (that base plus this
# machine's Temurin 25 JDK); the build then runs with --pull=never. Elsewhere the images come
# from the registry as usual. Set WMSCOPE_SMOKE_KEEP_IMAGE=1 to keep the built image.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
started=$(date +%s)
log() { echo "container-smoke: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "container-smoke needs root (privileged container, BPF)"
ensure_packages
find_jdk25

image=localhost/wmscope:smoke
name=wmscope-smoke-$$
tools=../shared/tools/local-base-images.sh
pull=()
if [ -f "$tools" ]; then
  log "preparing podman and local base images ($tools)"
  eval "$(bash "$tools" | grep '^export ')"
  pull=(--pull=never)
  if ! podman image exists docker.io/library/eclipse-temurin:25-jdk; then
    # The build stage's base, made like the tool makes the JRE: the local Debian 12 image plus
    # this machine's JDK 25 where the official image keeps it (links resolved: its trust store
    # is a link into /etc/ssl here). The CA certificates this machine adds to Debian's, if any
    # (an egress proxy that inspects TLS), go along, so the build stage reaches Maven Central as
    # this machine does; the ca-certificates package the Dockerfile installs picks them up.
    log "making a local stand-in for eclipse-temurin:25-jdk from $JAVA_HOME"
    ctx=$(mktemp -d /tmp/jdk-image.XXXXXX)
    cp -aL "$JAVA_HOME" "$ctx/jdk"
    mkdir "$ctx/ca"
    cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
    printf '%s\n' 'FROM localhost/debian:bookworm' 'COPY jdk /opt/java/openjdk' \
      'COPY ca/ /usr/local/share/ca-certificates/' \
      'ENV JAVA_HOME=/opt/java/openjdk PATH=/opt/java/openjdk/bin:$PATH LANG=C.UTF-8' > "$ctx/Dockerfile"
    podman build -q --pull=never -t docker.io/library/eclipse-temurin:25-jdk "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
else
  log "$tools not found: base images come from the registry"
  command -v podman >/dev/null || { apt-get update -qq && apt-get install -y -qq podman >/dev/null; }
fi

work=$(mktemp -d /tmp/wmscope-smoke.XXXXXX)
standin_master=""
dangling_before=$(podman images -q --filter dangling=true | sort)
cleanup() {
  podman rm -f -t 2 "$name" >/dev/null 2>&1 || true
  if [ -n "$standin_master" ] && kill -0 "$standin_master" 2>/dev/null; then
    kill -TERM "$standin_master" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$standin_master" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -z "${WMSCOPE_SMOKE_KEEP_IMAGE:-}" ]; then
    podman rmi -f "$image" >/dev/null 2>&1 || true
    # the build's intermediate images (about 1 GB a build); the Maven cache mount stays
    comm -13 <(echo "$dangling_before") <(podman images -q --filter dangling=true | sort) \
      | xargs -r podman rmi -f >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- build the image ---
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -1)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
log "building $image (wmscope $version, commit $commit)"
t0=$(date +%s)
# --network=host: the build's apt and Maven downloads use this machine's resolver directly
# (a private build network's DNS has failed here now and then).
podman build "${pull[@]}" --network=host -t "$image" --build-arg WMSCOPE_GIT_COMMIT="$commit" \
  --build-arg WMSCOPE_VERSION="$version" . > "$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; fail "podman build"; }
log "image built in $(( $(date +%s) - t0 )) s"

# The runtime image has what it should and nothing more.
podman run --rm --entrypoint /bin/sh "$image" -c \
  'command -v clang || command -v bpftool || command -v mvn || command -v javac; ldconfig -p | grep -c "libbpf.so.1 "' \
  > "$work/contents" || true
[ "$(cat "$work/contents")" = "1" ] || fail "runtime image: want libbpf.so.1 and no clang/bpftool/mvn/javac, got: $(tr '\n' ' ' < "$work/contents")"
revision=$(podman image inspect --format '{{ index .Labels "org.opencontainers.image.revision" }}' "$image")
[ "$revision" = "$commit" ] || fail "label org.opencontainers.image.revision is '$revision', want '$commit'"
podman run --rm "$image" --version > "$work/version" 2>&1 || fail "wmscope --version: $(cat "$work/version")"
grep -q "^wmscope $version (commit $commit" "$work/version" || fail "--version lacks version/commit: $(cat "$work/version")"
grep -q "^libbpf [0-9]" "$work/version" || fail "--version lacks the libbpf version: $(cat "$work/version")"
grep -q "^kernel Linux $(uname -r)" "$work/version" || fail "--version lacks the kernel: $(cat "$work/version")"
log "image ok: $(head -2 "$work/version" | tr '\n' ';')"

# --- a Workerman stand-in on the host, found by the agent through the host's /proc ---
port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')
start_file=/srv/wmscope-smoke-$$/start.php
export WMSCOPE_STANDIN_CONFIG="{\"start_file\": \"$start_file\", \"pid_file\": \"$work/master.pid\",
  \"stats_dir\": \"$work/stats\", \"workers\": [{\"name\": \"Smoke Worker\", \"protocol\": \"tcp\",
  \"host\": \"127.0.0.1\", \"port\": $port, \"count\": 2}]}"
php agent/src/main/resources/dev/wmscope/agent/standin/workerman-standin.php start > "$work/standin.log" 2>&1 &
standin_master=$!
for _ in $(seq 100); do [ -f "$work/master.pid" ] && break; sleep 0.1; done
[ -f "$work/master.pid" ] || fail "the Workerman stand-in did not start: $(cat "$work/standin.log")"

prog_ids() {  # ids of the loaded BPF programs named wmscope*, or of all programs with "all"
  bpftool -j prog show | php -r '$all = ($argv[1] ?? "") === "all";
    foreach (json_decode(stream_get_contents(STDIN), true) as $p) {
      if ($all || str_starts_with($p["name"] ?? "", "wmscope")) echo $p["id"], "\n"; }' "${1:-}" | sort
}

# Runs the image with the given podman options and no selection flags (so it must discover the
# stand-in), drives traffic, checks the JSON lines, stops it and checks its programs are gone.
#   smoke_run LABEL PODMAN_RUN_OPTIONS...
smoke_run() {
  local label=$1 before ours ready ok code left attached n=20
  shift
  before=$(prog_ids)
  podman run -d --name "$name" --pid=host --cgroupns=host --uts=host "$@" \
    "$image" run --format json --discovery-interval 200ms > /dev/null
  ready=""
  for _ in $(seq 600); do
    podman logs "$name" > "$work/agent.out" 2> "$work/agent.err" || true
    if grep -q "attached sock_ops to cgroup" "$work/agent.err" && grep -q "watched ports now .*\b$port\b" "$work/agent.err"; then
      ready=1; break
    fi
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = "true" ] || break
    sleep 0.1
  done
  [ -n "$ready" ] || { cat "$work/agent.err" >&2; fail "$label: the agent did not attach and discover port $port"; }
  ours=$(comm -13 <(echo "$before") <(prog_ids))
  [ -n "$ours" ] || fail "$label: no wmscope BPF program appeared in the kernel while the agent ran"

  # traffic with known byte counts: connection i sends 1000+i bytes and reads the echo
  php -r '
    [$_, $port, $n] = $argv;
    for ($i = 0; $i < $n; $i++) {
      $c = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5) or exit("connect: $errstr\n");
      fwrite($c, str_repeat("w", 1000 + $i));
      stream_socket_shutdown($c, STREAM_SHUT_WR);
      $got = stream_get_contents($c);
      if (strlen($got) !== 1000 + $i) exit("connection $i: echo of " . strlen($got) . " bytes\n");
      fclose($c);
    }' "$port" "$n" || fail "$label: traffic to the stand-in"
  ok=""
  for _ in $(seq 100); do
    podman logs "$name" > "$work/agent.out" 2> "$work/agent.err" || true
    if check_records "$n" 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { check_records "$n" || true; tail -20 "$work/agent.err" >&2; fail "$label: the agent's JSON lines do not match the traffic"; }
  log "$label: the agent reported all $n connections with exact byte counts and the worker name"

  # The agent's HTTP server inside the container, on its default loopback address: /metrics
  # must carry the traffic; /healthz feeds the image's HEALTHCHECK and the Kubernetes probes.
  podman exec "$name" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' \
    > "$work/metrics" 2>&1 || true
  grep -q "^wmscope_connection_opened_total{.*server_port=\"$port\"" "$work/metrics" \
    || { head -20 "$work/metrics" >&2; fail "$label: /metrics in the container lacks wmscope_connection_opened_total for port $port"; }
  podman exec "$name" /opt/wmscope/bin/wmscope-healthz > /dev/null 2> "$work/healthz.err" \
    || fail "$label: /healthz does not answer in the container (the HEALTHCHECK and the Kubernetes probes use it): $(cat "$work/healthz.err")"
  log "$label: /metrics and /healthz answer in the container"

  # SIGTERM: clean exit 0, and nothing left in the kernel
  podman stop -t 30 "$name" > /dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
  podman logs "$name" > /dev/null 2> "$work/agent.err" || true
  podman rm "$name" > /dev/null
  [ "$code" = "0" ] || { tail -20 "$work/agent.err" >&2; fail "$label: agent exit code $code after SIGTERM, want 0"; }
  grep -q "detached BPF programs" "$work/agent.err" || fail "$label: the agent did not log detaching its programs"
  left=""
  for _ in $(seq 100); do  # the kernel frees programs asynchronously after the last reference
    left=$(comm -12 <(echo "$ours") <(prog_ids all))
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "$label: BPF programs still loaded after the agent stopped: $(echo $left)"
  attached=$(bpftool -j cgroup tree 2>/dev/null | php -r '
    $ids = array_flip(preg_split("/\s+/", trim($argv[1])));
    foreach (json_decode(stream_get_contents(STDIN), true) ?: [] as $cg)
      foreach ($cg["programs"] ?? [] as $p) if (isset($ids[$p["id"]])) echo $cg["cgroup"], ": ", $p["name"] ?? $p["id"], "\n";' "$ours")
  [ -z "$attached" ] || fail "$label: programs still attached to cgroups: $attached"
  log "$label: stopped with exit 0; its $(echo "$ours" | wc -l) BPF programs are gone from the kernel"
}

check_records() {  # the JSON lines in $work/agent.out hold exactly the traffic's $1 connections
  php -r '
    [$_, $file, $port, $n] = $argv;
    $want = []; for ($i = 0; $i < $n; $i++) $want[] = 1000 + $i;
    $rx = []; $tx = []; $names = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
      $r = json_decode($line, true);
      if (!is_array($r) || ($r["server.port"] ?? 0) != $port || ($r["wmscope.connection.side"] ?? "") !== "server") continue;
      $rx[] = $r["wmscope.tcp.bytes_received"]; $tx[] = $r["wmscope.tcp.bytes_sent"];
      $names[$r["workerman.worker.name"] ?? "(none)"] = true;
    }
    sort($rx); sort($tx);
    if ($rx === $want && $tx === $want && array_keys($names) === ["Smoke Worker"]) exit(0);
    fprintf(STDERR, "records for port %d: %d, want %d; rx %s; tx %s; workers %s\n", $port, count($rx), $n,
      json_encode($rx), json_encode($tx), json_encode(array_keys($names)));
    exit(1);' "$work/agent.out" "$port" "$1"
}

# As the README's first command: privileged.
smoke_run "privileged" --privileged -v /sys/fs/cgroup:/sys/fs/cgroup:ro
# As the Kubernetes DaemonSet and the systemd unit: root with four capabilities, read-only root
# filesystem.
smoke_run "capabilities" --cap-drop=ALL --cap-add=BPF --cap-add=PERFMON --cap-add=NET_ADMIN \
  --cap-add=SYS_PTRACE --security-opt seccomp=unconfined --read-only --tmpfs /tmp \
  -v /sys/fs/cgroup:/sys/fs/cgroup:ro
log "passed in $(( $(date +%s) - started )) s"
