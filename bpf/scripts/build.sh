#!/usr/bin/env bash
# Compiles the BPF object (CO-RE, against the pinned vmlinux.h) into the directory given as $1;
# with --tests, the test objects of bpf/test/ instead. Called by the loader module's Maven build;
# needs clang and libbpf-dev (bpf_helpers.h).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sources=("$here"/src/*.bpf.c)
if [ "${1:-}" = "--tests" ]; then
  shift
  sources=("$here"/test/*.bpf.c)
fi
out=${1:?usage: build.sh [--tests] OUTPUT_DIR}
clang=${CLANG:-clang}
command -v "$clang" >/dev/null || { echo "build.sh: $clang not found: apt-get install clang" >&2; exit 1; }
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "build.sh: bpf/bpf_helpers.h not found: apt-get install libbpf-dev" >&2; exit 1; }
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
mkdir -p "$out"
extra=()
[ -n "${BPF_DEBUG:-}" ] && extra+=(-DBPF_DEBUG)
for src in "${sources[@]}"; do
  "$clang" -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -Wall -Werror -Wpadded \
    -I"$here" -I"$here/include" -I"$here/src" "${extra[@]}" \
    -c "$src" -o "$out/$(basename "$src" .c).o"
done
