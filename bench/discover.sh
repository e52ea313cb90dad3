#!/usr/bin/env bash
# Discovery and profiles: GET /discover/widgets?sort=trending (the first
# page of 20) over WIDGETS public widgets of USERS owners, on SQLite and on
# PostgreSQL in the same run, the same with words (never cached), and
# GET /profiles/{username} (12 of its
# widgets) on SQLite. The widgets are made through POST /widgets first
# (bench/seed_widgets.py). Env: WIDGETS (100000), USERS (100), DURATION
# (10s), CONNECTIONS (32), PORT (18097), BENCH_DATABASE_URL
# (postgres://postgres@127.0.0.1:5432; empty skips PostgreSQL), SKIP_BUILD=1.
set -euo pipefail
CONNECTIONS=${CONNECTIONS:-32}
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${PORT:-18097}
WIDGETS=${WIDGETS:-100000}
USERS=${USERS:-100}
BENCH_DATABASE_URL=${BENCH_DATABASE_URL-postgres://postgres@127.0.0.1:5432}
PER_USER=$((WIDGETS / USERS))

ensure_wrk
build_kitemate
trap cleanup EXIT

# seed LABEL [env...]: a server with the widgets; sets base and profile.
seed() {
  local label=$1; shift
  base="http://127.0.0.1:$PORT"
  start_kitemate "$PORT" "$WORK_DIR/data-$label" KITEMATE_WIDGETS__FREE_WIDGETS=$((PER_USER + 10)) "$@"
  wait_ready "$base/healthz"
  log "$label: seeding $((USERS * PER_USER)) public widgets of $USERS users"
  local start=$SECONDS
  profile=$(python3 "$BENCH_DIR/seed_widgets.py" "$base" "$USERS" "$PER_USER")
  log "$label: seeded in $((SECONDS - start)) s"
  local got
  got=$(curl -fsS "$base/discover/widgets?sort=new&limit=1" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["widgets"]))')
  [[ $got == 1 ]] || die "discovery lists nothing"
}

row() {
  local res rps p50 p99 bad err
  res=$(parse_wrk "$2") || die "could not parse wrk output: $(cat "$2")"
  read -r rps p50 p99 bad err <<<"$res"
  warn_errors "$1" "$bad" "$err"
  echo "| $1 | $rps | $p50 ms | $p99 ms | $((bad + err)) |"
}

seed sqlite
run_wrk "$WORK_DIR/wrk-trending-sqlite.txt" "$base/discover/widgets?sort=trending"
run_wrk "$WORK_DIR/wrk-search-sqlite.txt" "$base/discover/widgets?sort=trending&q=dividend"
run_wrk "$WORK_DIR/wrk-profile-sqlite.txt" "$base/profiles/$profile"
stop_server

prefix=
if [[ -n $BENCH_DATABASE_URL ]]; then
  prefix=kmdiscover$RANDOM
  seed postgres KITEMATE_DATABASE_URL="${BENCH_DATABASE_URL%/}/$prefix"
  run_wrk "$WORK_DIR/wrk-trending-pg.txt" "$base/discover/widgets?sort=trending"
  run_wrk "$WORK_DIR/wrk-search-pg.txt" "$base/discover/widgets?sort=trending&q=dividend"
  stop_server
  for db in $(psql "${BENCH_DATABASE_URL%/}/postgres" -Atc \
    "SELECT datname FROM pg_database WHERE datname LIKE '${prefix}\_%'"); do
    psql -q "${BENCH_DATABASE_URL%/}/postgres" -c "DROP DATABASE \"$db\""
  done
fi

echo "## Discovery over $((USERS * PER_USER)) public widgets of $USERS users"
echo
machine_info
echo
echo "| request | req/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: |"
row "GET /discover/widgets?sort=trending, SQLite" "$WORK_DIR/wrk-trending-sqlite.txt"
[[ -z $prefix ]] || row "GET /discover/widgets?sort=trending, PostgreSQL" "$WORK_DIR/wrk-trending-pg.txt"
row "GET /discover/widgets?sort=trending&q=dividend (never cached), SQLite" "$WORK_DIR/wrk-search-sqlite.txt"
[[ -z $prefix ]] || row "GET /discover/widgets?sort=trending&q=dividend (never cached), PostgreSQL" "$WORK_DIR/wrk-search-pg.txt"
row "GET /profiles/{username} ($PER_USER public widgets, 12 listed), SQLite" "$WORK_DIR/wrk-profile-sqlite.txt"
