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
SIGNUP='{"email":"bench@example.com","password":"correct horse battery staple","username":"bench"}'

# Three buys and a sale of each security over two years: every one still held.
tradebook() {
  python3 - "$HOLDINGS" <<'PY'
import datetime, sys
n = int(sys.argv[1])
print("symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time")
start = datetime.date(2023, 4, 3)
trade = 1
for s in range(n):
    for k, (side, qty) in enumerate([("buy", 10), ("buy", 5), ("sell", 4), ("buy", 7)]):
        day = start + datetime.timedelta(days=s * 7 + k * 60)
        price = 100 + s * 13 + k * 4
        print(f"SYM{s},INE{s:06}A01010,{day},NSE,EQ,EQ,{side},false,{qty}.000000,{price}.050000,"
              f"{trade},{1000 + trade},{day}T10:00:00")
        trade += 1
PY
}

ensure_wrk
build_kitemate
trap cleanup EXIT

base="http://127.0.0.1:$PORT"
start_kitemate "$PORT" "$WORK_DIR/data"
wait_ready "$base/ping" -X POST -H 'Content-Type: application/json' -d '{"name":"World"}'
token=$(curl -fsS -X POST "$base/auth/signup" -H 'content-type: application/json' -d "$SIGNUP" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') ||
  die "POST /auth/signup gave no token"
tradebook >"$WORK_DIR/tradebook.csv"
curl -fsS -o /dev/null -X POST "$base/portfolio/import" -H "Authorization: Bearer $token" \
  -H 'content-type: text/csv' --data-binary "@$WORK_DIR/tradebook.csv" ||
  die "POST /portfolio/import failed"
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
