#!/bin/sh
# Installs the npm packages the tests compare against (tests/peers/package.json,
# pinned by tests/peers/package-lock.json) into .npm-peers/ at the repo root
# with `npm ci`. Quiet and quick when the installed tree matches the lock file
# (a stamp of the lock file, the package file, the platform and Node's major
# version); reinstalls when any of them changes. Tests never download: they
# only use what this script installed.
#
# LH_PEERS_DIR overrides the install folder (the scripts in tests/peers/ read
# the same variable).
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/tests/peers"
DEST=${LH_PEERS_DIR:-"$ROOT/.npm-peers"}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "peers: node and npm are needed for the test peers (DuckDB, hyparquet);" >&2
    echo "peers: run scripts/deps.sh (Debian packages nodejs npm) or install Node.js >= 18" >&2
    exit 1
fi

stamp=$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -d' ' -f1)
stamp="$stamp $(uname -m) $(node -p 'process.versions.node.split(".")[0]')"
if [ -d "$DEST/node_modules" ] && [ -f "$DEST/.stamp" ] &&
    [ "$(cat "$DEST/.stamp")" = "$stamp" ]; then
    exit 0
fi

echo "peers: installing the test peers into ${DEST#"$ROOT"/}/ (npm ci)"
mkdir -p "$DEST"
rm -f "$DEST/.stamp"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
# No package here runs install scripts; --ignore-scripts keeps it that way.
if ! (cd "$DEST" && npm ci --ignore-scripts --no-audit --no-fund \
        --loglevel=error >"$DEST/.npm-ci.log" 2>&1); then
    cat "$DEST/.npm-ci.log" >&2
    echo "peers: npm ci failed in $DEST (log: $DEST/.npm-ci.log)" >&2
    exit 1
fi
echo "$stamp" >"$DEST/.stamp"
