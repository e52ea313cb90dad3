#!/usr/bin/env bash
# GET /portfolio/summary for a 50-holding portfolio (imported from a generated
# tradebook) on SQLite. Env: DURATION (10s), CONNECTIONS (32), PORT (18092),
# HOLDINGS (50), SKIP_BUILD=1, KITEMATE_BIN.
set -euo pipefail
# 32 connections: at 150, queueing alone (150 / 13,000 req/s = 11.5 ms) would
# put the p99 past 10 ms on any server that fits these two cores.
CONNECTIONS=${CONNECTIONS:-32}
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${PORT:-18092}
HOLDINGS=${HOLDINGS:-50}

ensure_wrk
build_kitemate
trap cleanup EXIT

serve_portfolio "$PORT" "$HOLDINGS"
held=$(curl -fsS -H "Authorization: Bearer $token" "$base/portfolio/summary" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["holdings"])')
[[ $held == "$HOLDINGS" ]] || die "the summary counts $held holdings, not $HOLDINGS"
log "wrk -c$CONNECTIONS -d$DURATION $base/portfolio/summary ($held holdings)"
out=$WORK_DIR/wrk-summary.txt
run_wrk "$out" -H "Authorization: Bearer $token" "$base/portfolio/summary"
stop_server
res=$(parse_wrk "$out") || die "could not parse wrk output: $(cat "$out")"
read -r rps p50 p99 bad err <<<"$res"
warn_errors summary "$bad" "$err"

echo "## GET /portfolio/summary, $HOLDINGS holdings, SQLite"
echo
machine_info
echo
echo "| req/s | p50 | p99 | errors |"
echo "| ---: | ---: | ---: | ---: |"
echo "| $rps | $p50 ms | $p99 ms | $((bad + err)) |"
