#!/bin/sh
# `make bench`: runs every benchmark program of a build directory (default
# build-release) at full size, each with its databases in a temporary
# directory that is removed afterwards. Extra arguments go to every program
# (e.g. `scripts/bench.sh build-release --seconds 5`).
#
# The temporary directory is made under $BENCH_TMP, else $TMPDIR, else /tmp:
# point it at the file system you want measured (fsync cost is the point).
set -eu
BUILD=${1:-build-release}
[ $# -gt 0 ] && shift
if [ ! -d "$BUILD/bench" ]; then
    echo "bench: no $BUILD/bench; build the release preset first (make bench)" >&2
    exit 1
fi
PARENT=${BENCH_TMP:-${TMPDIR:-/tmp}}
WORK=$(mktemp -d "$PARENT/lh-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
status=0
found=0
for prog in "$BUILD"/bench/bench_*; do
    [ -f "$prog" ] && [ -x "$prog" ] || continue
    found=1
    echo "== $(basename "$prog") ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -n))"
    if ! "$prog" --dir "$WORK" "$@"; then
        echo "bench: $(basename "$prog") failed" >&2
        status=1
    fi
    echo
done
if [ "$found" -eq 0 ]; then
    echo "bench: no bench_* programs in $BUILD/bench" >&2
    exit 1
fi
exit $status
