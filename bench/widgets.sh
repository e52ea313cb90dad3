#!/usr/bin/env bash
# Widgets on SQLite for a 50-holding portfolio: GET /widgets/{id}/data of an
# allocation by stock (50 slices), and GET /dashboards/{id} of a dashboard of
# 8 widgets (the starter's 4 and 4 more). Env: DURATION (10s), CONNECTIONS
# (32), PORT (18096), HOLDINGS (50), SKIP_BUILD=1, KITEMATE_BIN.
set -euo pipefail
CONNECTIONS=${CONNECTIONS:-32}
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${PORT:-18096}
HOLDINGS=${HOLDINGS:-50}

ensure_wrk
build_kitemate
trap cleanup EXIT

serve_portfolio "$PORT" "$HOLDINGS"
auth=(-H "Authorization: Bearer $token")
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
# The starter dashboard follows the signup through pub/sub.
for _ in $(seq 100); do
  board=$(curl -fsS "${auth[@]}" "$base/dashboards" | json '["dashboards"][0]["id"]' 2>/dev/null) && break
  sleep 0.1
done
[[ -n ${board:-} ]] || die "no starter dashboard"
make_widget() {
  curl -fsS "${auth[@]}" -H 'content-type: application/json' -X POST "$base/widgets" -d "$1" |
    json '["id"]'
}
allocation=$(make_widget '{"title":"By stock","kind":"pie","source":{"type":"allocation","by":"stock"}}')
slices=$(curl -fsS "${auth[@]}" "$base/widgets/$allocation/data" | json '["data"]["rows"].__len__()')
[[ $slices == "$HOLDINGS" ]] || die "the allocation has $slices slices, not $HOLDINGS"
make_widget '{"title":"Holdings","kind":"table","source":{"type":"holdings","top":10}}' >/dev/null
make_widget '{"title":"Gainers","kind":"bar","source":{"type":"movers","direction":"gainers","measure":"percent","n":5}}' >/dev/null
make_widget '{"title":"Sectors","kind":"donut","source":{"type":"allocation","by":"sector","top":6}}' >/dev/null
layout=$(curl -fsS "${auth[@]}" "$base/widgets?limit=100" | python3 -c '
import json, sys
ids = [w["id"] for w in json.load(sys.stdin)["widgets"]]
print(json.dumps({"layout": [{"widgetId": i, "x": (n % 2) * 6, "y": (n // 2) * 3, "w": 6, "h": 3}
                             for n, i in enumerate(ids)]}))')
curl -fsS -o /dev/null "${auth[@]}" -H 'content-type: application/json' -X PATCH \
  "$base/dashboards/$board" -d "$layout" || die "PATCH /dashboards failed"
placed=$(curl -fsS "${auth[@]}" "$base/dashboards/$board" | json '["widgets"].__len__()')
[[ $placed == 8 ]] || die "the dashboard has $placed widgets, not 8"

log "wrk -c$CONNECTIONS -d$DURATION $base/widgets/$allocation/data ($slices slices)"
run_wrk "$WORK_DIR/wrk-data.txt" "${auth[@]}" "$base/widgets/$allocation/data"
log "wrk -c$CONNECTIONS -d$DURATION $base/dashboards/$board ($placed widgets)"
run_wrk "$WORK_DIR/wrk-board.txt" "${auth[@]}" "$base/dashboards/$board"
stop_server

row() {
  local res rps p50 p99 bad err
  res=$(parse_wrk "$2") || die "could not parse wrk output: $(cat "$2")"
  read -r rps p50 p99 bad err <<<"$res"
  warn_errors "$1" "$bad" "$err"
  echo "| $1 | $rps | $p50 ms | $p99 ms | $((bad + err)) |"
}
echo "## Widgets, $HOLDINGS holdings, SQLite"
echo
machine_info
echo
echo "| request | req/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: |"
row "GET /widgets/{id}/data, allocation of $slices slices" "$WORK_DIR/wrk-data.txt"
row "GET /dashboards/{id}, $placed widgets with their data" "$WORK_DIR/wrk-board.txt"
