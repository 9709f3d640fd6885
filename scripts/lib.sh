# Shared by scripts/demo.sh, scripts/test.sh and .ci/run: installs what the build needs on
# Debian/Ubuntu and finds a JDK 25 even when the default `java` is older.

# Debian packages: clang and libbpf-dev build the BPF object; libbpf1 is the run-time library;
# php-cli runs the Workerman stand-in; prometheus is the real scraper in the end-to-end tests;
# chromium (driven by npm's playwright-core, which the page test installs into agent/target)
# loads the agent's page in its browser test; bpftool and curl are for diagnostics and scripts.
WMSCOPE_APT_PACKAGES=(clang libbpf-dev libbpf1 bpftool php-cli prometheus chromium maven curl ca-certificates)
# npm for playwright-core: Debian's when no Node.js is installed (machines with NodeSource's have one)
command -v npm >/dev/null 2>&1 || WMSCOPE_APT_PACKAGES+=(nodejs npm)

die() { echo "wmscope: $*" >&2; exit 1; }

ensure_packages() {
  local missing=() p
  for p in "${WMSCOPE_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    die "missing packages: ${missing[*]}; install them with your package manager"
  fi
  if [ "$(id -u)" -ne 0 ]; then
    die "missing packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}"
  fi
  echo "wmscope: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

java_major() { # prints the feature version of the java binary $1
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1
}

# Sets JAVA_HOME to a JDK >= 25: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
find_jdk25() {
  local candidate v
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    v=$(java_major "$candidate/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      export JAVA_HOME=$candidate
      export PATH=$JAVA_HOME/bin:$PATH
      return 0
    fi
  done
  die "no JDK 25 found (JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm). Install Eclipse Temurin 25 \
(https://adoptium.net: apt-get install temurin-25-jdk from the Adoptium repository) and set JAVA_HOME."
}
