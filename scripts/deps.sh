#!/bin/sh
# Installs the Debian packages lakehouse builds and tests with, and nothing
# when they are all present (so `make` stays quiet on a ready machine).
set -e
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libsqlite3-dev libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libbrotli-dev
libavro-dev libjansson-dev libcurl4-openssl-dev libssl-dev libevent-dev
libxxhash-dev libroaring-dev libreadline-dev libcmocka-dev libpcre2-dev
libutf8proc-dev sqlite3 python3
libxml2-dev python3-botocore"
# Node.js runs the test peers (scripts/peers.sh, tests/peers/). Debian's own
# nodejs (18) and npm (9) only when no node is on PATH: a newer one installed
# some other way is kept, not downgraded.
if ! command -v node >/dev/null 2>&1; then
    PKGS="$PKGS nodejs npm"
fi
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
