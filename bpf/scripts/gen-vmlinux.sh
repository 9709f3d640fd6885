#!/usr/bin/env bash
# Regenerates bpf/vmlinux.h from the running kernel's BTF. The header is checked in and pinned:
# the build never dumps it from the build machine, so every build compiles against the same
# types, and CO-RE relocations adapt the object to whatever kernel loads it.
# Run on an x86_64 host with BTF when a program needs a kernel type the pinned header lacks.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
btf=${1:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || { echo "gen-vmlinux: cannot read $btf: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "gen-vmlinux: bpftool not found: apt-get install bpftool" >&2; exit 1; }
bpftool btf dump file "$btf" format c > "$here/vmlinux.h.tmp"
mv "$here/vmlinux.h.tmp" "$here/vmlinux.h"
echo "wrote $here/vmlinux.h from $btf ($(uname -r))"
