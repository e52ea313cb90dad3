#!/usr/bin/env bash
# Cold start: spawn `kitemate serve` on an already-migrated data dir, time until
# the first 200 on POST /ping. Env: RUNS (50), PORT (18095), SKIP_BUILD=1, KITEMATE_BIN.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-50}
PORT=${PORT:-18095}

build_kitemate
export KITEMATE_DATA_DIR=$WORK_DIR/data KITEMATE_LISTEN="127.0.0.1:$PORT" \
  KITEMATE_RATE_LIMIT__ENABLED=false KITEMATE_LOG__LEVEL=warn
mkdir "$KITEMATE_DATA_DIR"
log "migrate into $KITEMATE_DATA_DIR"
"$KITEMATE_BIN" migrate
log "$RUNS cold starts on port $PORT"
python3 "$BENCH_DIR/coldstart.py" "$RUNS" "$PORT" "$KITEMATE_BIN" serve
