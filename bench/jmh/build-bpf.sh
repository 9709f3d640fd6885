#!/usr/bin/env bash
# Compiles the benchmark's BPF feeder into $2 (called by bench/jmh/pom.xml). $1: the repo's bpf/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bpf=${1:?usage: build-bpf.sh BPF_DIR OUTPUT_DIR}
out=${2:?usage: build-bpf.sh BPF_DIR OUTPUT_DIR}
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
mkdir -p "$out"
"${CLANG:-clang}" -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -Wall -Werror \
  -I"$bpf" -I"$bpf/include" -c "$here/src/main/bpf/ringbuf_feeder.bpf.c" -o "$out/ringbuf_feeder.bpf.o"
