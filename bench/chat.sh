#!/usr/bin/env bash
# POST /chat/query answered by the built-in engine over a 50-holding
# portfolio (a generated tradebook), on SQLite, going round eight kinds of
# question (bench/chat.lua). The user is on Pro, so that no answer is refused.
# Env: DURATION (10s), CONNECTIONS (32), PORT (18093), HOLDINGS (50),
# SKIP_BUILD=1, KITEMATE_BIN.
set -euo pipefail
CONNECTIONS=${CONNECTIONS:-32}
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${PORT:-18093}
HOLDINGS=${HOLDINGS:-50}

# One user asks from every connection: lift the per-user cap on questions
# answered at once (2 by default; the per-minute rate is off with the other
# limits in start_kitemate).
export KITEMATE_CHAT__IN_FLIGHT=10000

ensure_wrk
build_kitemate
trap cleanup EXIT

serve_portfolio "$PORT" "$HOLDINGS"
KITEMATE_DATA_DIR="$WORK_DIR/data" KITEMATE_LOG__LEVEL=warn "$KITEMATE_BIN" users set-tier bench@example.com pro >/dev/null ||
  die "kitemate users set-tier failed"
answered=$(curl -fsS -X POST "$base/chat/query" -H "Authorization: Bearer $token" \
  -H 'content-type: application/json' -d '{"message":"How many SYM7 do I have?"}' |
  python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["answered"] and "shares" in r["answer"])')
[[ $answered == True ]] || die "the engine did not answer a plain question"
log "wrk -c$CONNECTIONS -d$DURATION $base/chat/query (8 kinds of question, $HOLDINGS holdings)"
out=$WORK_DIR/wrk-chat.txt
run_wrk "$out" -s "$(dirname "${BASH_SOURCE[0]}")/chat.lua" -H "Authorization: Bearer $token" "$base"
stop_server
res=$(parse_wrk "$out") || die "could not parse wrk output: $(cat "$out")"
read -r rps p50 p99 bad err <<<"$res"
warn_errors chat "$bad" "$err"

echo "## POST /chat/query (built-in engine), $HOLDINGS holdings, SQLite"
echo
machine_info
echo
echo "| answers/s | p50 | p99 | errors |"
echo "| ---: | ---: | ---: | ---: |"
echo "| $rps | $p50 ms | $p99 ms | $((bad + err)) |"
