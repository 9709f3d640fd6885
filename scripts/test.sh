#!/usr/bin/env bash
# Runs the whole test suite: unit tests anywhere, kernel tests (*KernelIT) as root on a kernel
# with BTF and cgroup v2. Set WMSCOPE_REQUIRE_KERNEL=1 to make a skipped kernel test a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages
find_jdk25
exec mvn -B -ntp verify "$@"
