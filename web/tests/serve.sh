#!/usr/bin/env bash
# A real `kitemate serve` on a fresh data folder for the browser suite.
# KITEMATE_BIN picks the binary (default: the workspace's debug build).
set -euo pipefail
port=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${KITEMATE_BIN:-$here/target/debug/kitemate}
data=$(mktemp -d)
export KITEMATE_LISTEN=127.0.0.1:$port
export KITEMATE_DATA_DIR=$data
export KITEMATE_LOG__LEVEL=warn
"$bin" serve &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT INT TERM
wait $server
