#!/usr/bin/env bash
# GET /auth/me (bearer token) on SQLite and on PostgreSQL.
# Env: DURATION (10s), CONNECTIONS (150), PORT (18090), PGHOST/PGPORT (127.0.0.1:5432),
#      SKIP_BUILD=1, KITEMATE_BIN.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${PORT:-18090}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
SIGNUP='{"email":"bench@example.com","password":"correct horse battery staple","username":"bench"}'

drop_bench_dbs() {
  local db
  for db in $(psql -d postgres -Atc "select datname from pg_database where datname like 'kmbench\_%'"); do
    psql -d postgres -qc "DROP DATABASE \"$db\" WITH (FORCE)"
  done
}

# bench_backend NAME [extra env...]: appends one table row to ROWS.
ROWS=""
bench_backend() {
  local name=$1 base="http://127.0.0.1:$PORT" token out res rps p50 p99 bad err; shift
  start_kitemate "$PORT" "$WORK_DIR/data-$name" "$@"
  wait_ready "$base/ping" -X POST -H 'Content-Type: application/json' -d '{"name":"World"}'
  token=$(curl -fsS -X POST "$base/auth/signup" -H 'content-type: application/json' -d "$SIGNUP" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') ||
    die "$name: POST /auth/signup gave no token"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$base/auth/me" ||
    die "$name: GET /auth/me with the signup token failed"
  log "$name: wrk -c$CONNECTIONS -d$DURATION $base/auth/me"
  out=$WORK_DIR/wrk-$name.txt
  run_wrk "$out" -H "Authorization: Bearer $token" "$base/auth/me"
  stop_server
  res=$(parse_wrk "$out") || die "could not parse wrk output: $(cat "$out")"
  read -r rps p50 p99 bad err <<<"$res"
  warn_errors "$name" "$bad" "$err"
  ROWS+="| $name | $rps | $p50 ms | $p99 ms | $((bad + err)) |"$'\n'
}

ensure_wrk
command -v psql >/dev/null || die "psql not found (apt-get install -y postgresql-client)"
psql -d postgres -qAtc 'select 1' >/dev/null || die "PostgreSQL not reachable at $PGHOST:$PGPORT as $PGUSER"
build_kitemate

trap 'cleanup; drop_bench_dbs || true' EXIT

bench_backend SQLite
bench_backend PostgreSQL \
  KITEMATE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/kmbench_$(date +%s)_$RANDOM"
drop_bench_dbs

echo "## GET /auth/me"
echo
machine_info
echo
echo "| backend | req/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf %s "$ROWS"
