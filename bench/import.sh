#!/usr/bin/env bash
# `kitemate import` of a generated 1,000,000-row Console tradebook (121 MB,
# 500 securities over ten years), timed with its peak RSS by GNU time, then
# the same file again (every row a duplicate). SQLite, or PostgreSQL when
# BENCH_DATABASE_URL=postgres://user@host:port (a fresh prefix, dropped after).
# Env: ROWS (1000000), PORT (18111), SKIP_BUILD=1, KITEMATE_BIN.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS=${ROWS:-1000000}
PORT=${PORT:-18111}
[[ -x /usr/bin/time ]] || apt-get install -y time >/dev/null 2>&1 || die "GNU time is needed"
build_kitemate

file=$WORK_DIR/tradebook.csv
log "writing $ROWS rows to $file"
python3 - "$ROWS" "$file" <<'PY'
import sys
from datetime import date, timedelta
rows, path = int(sys.argv[1]), sys.argv[2]
start = date(2015, 4, 1)
with open(path, "w") as f:
    f.write("symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n")
    out = []
    for i in range(rows):
        sec = i % 500
        day = start + timedelta(days=i * 3650 // rows)
        side, q = ("sell", 4) if (i // 500) % 3 == 2 else ("buy", 3)
        price = 100 + (sec * 7 + i // 997) % 3000
        out.append(f"SYM{sec},INE{sec:05d}A010,{day},NSE,EQ,EQ,{side},false,{q}.000000,{price}.{i % 20 * 5:02d}0000,"
                   f"{10_000_000 + i},{1_200_000_000_000_000 + i},{day}T{9 + i % 6:02d}:{i % 60:02d}:{(i // 60) % 60:02d}\n")
        if len(out) >= 100_000:
            f.write("".join(out)); out = []
    f.write("".join(out))
PY

extra=()
label=SQLite
if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
  prefix=kmimport$RANDOM
  extra=(KITEMATE_DATABASE_URL="${BENCH_DATABASE_URL%/}/$prefix")
  label=PostgreSQL
fi
data=$WORK_DIR/data
start_kitemate "$PORT" "$data" "${extra[@]}"
wait_ready "http://127.0.0.1:$PORT/healthz"
curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"river otter lantern","username":"bench"}' \
  "http://127.0.0.1:$PORT/auth/signup"
stop_server

run() {
  env -u KITEMATE_BIN KITEMATE_DATA_DIR="$data" KITEMATE_LOG__LEVEL=warn "${extra[@]}" \
    /usr/bin/time -f "%e %M" -o "$WORK_DIR/time" \
    "$KITEMATE_BIN" import "$file" --user bench@example.com >&2
  read -r secs kb <"$WORK_DIR/time"
  echo "| $1 | $secs s | $((kb / 1024)) MiB |"
}
echo "## kitemate import, $ROWS rows, $label"
echo
echo "| run | wall | peak RSS |"
echo "| --- | ---: | ---: |"
run "first import"
run "again (all duplicates)"
if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
  for db in $(psql "${BENCH_DATABASE_URL%/}/postgres" -Atc \
    "SELECT datname FROM pg_database WHERE datname LIKE '${prefix}\_%'"); do
    psql -q "${BENCH_DATABASE_URL%/}/postgres" -c "DROP DATABASE \"$db\""
  done
fi
