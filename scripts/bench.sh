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
# Bench-only peers (bench_vector): a C++ compiler and hnswlib's headers for
# its driver, faiss and numpy for /usr/bin/python3. make test needs none.
missing=""
for p in g++ libhnswlib-dev python3-faiss python3-numpy; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "bench: installing$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    # shellcheck disable=SC2086
    if ! { $SUDO apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            --no-install-recommends $missing >/dev/null; }; then
        echo "bench: could not install$missing; their peers are skipped" >&2
    fi
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
