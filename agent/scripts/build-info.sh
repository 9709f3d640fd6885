#!/usr/bin/env bash
# Writes the build-info.properties that `wmscope --version` reads: version and git commit.
# Called by the agent's Maven build (generate-resources). Builds without a .git directory (a
# container build context, a source tarball) pass the commit in WMSCOPE_GIT_COMMIT instead.
set -euo pipefail
out=${1:?usage: build-info.sh OUTPUT_FILE VERSION}
version=${2:?usage: build-info.sh OUTPUT_FILE VERSION}
src=$(cd "$(dirname "$0")" && pwd)

commit=${WMSCOPE_GIT_COMMIT:-}
commit_time=""
dirty=""
if [ -z "$commit" ] && command -v git >/dev/null && git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || true)
  commit_time=$(git -C "$src" log -1 --format=%cI 2>/dev/null || true)
  # Uncommitted changes to tracked files make the commit id an approximation: say so.
  if ! git -C "$src" diff --quiet HEAD -- 2>/dev/null; then
    dirty=true
  fi
fi

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
{
  echo "# written by agent/scripts/build-info.sh"
  echo "version=$version"
  echo "commit=${commit:-unknown}"
  echo "commit.time=$commit_time"
  echo "dirty=${dirty:-false}"
} > "$tmp"
mv -f "$tmp" "$out"
