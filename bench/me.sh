#!/usr/bin/env bash
# GET /auth/me (bearer token): the Rust peer of ../shared/peers (hyper +
# tokio-postgres + deadpool, one prepared query) first, then KiteMate on
# SQLite, on PostgreSQL with NATS (production: sessions remembered, revoked
# through the bus) and on PostgreSQL alone (no bus: one query per request),
# all in one run so that the ratios hold on a noisy machine.
# Env: DURATION (10s), CONNECTIONS (150), PORT (18090), PGHOST/PGPORT (127.0.0.1:5432),
#      NATS_URL (nats://127.0.0.1:4222; the NATS row is left out when unreachable),
#      PEERS_DIR (../shared/peers, copied to a temporary folder; PEERS_DIR= skips the peer),
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
  ROWS+="| $name | $rps | $(ratio "$rps" "${PEER_RPS:-0}") | $p50 ms | $p99 ms | $((bad + err)) |"$'\n'
}

# The Rust peer, token 1 on every request as here; sets PEER_RPS and PEER_ROW.
PEER_RPS=0 PEER_ROW=""
bench_peer() {
  local src=${PEERS_DIR-$ROOT_DIR/../shared/peers} copy out row
  [[ -n $src && -x $src/run-me.sh ]] || { log "no peers folder; the peer is left out"; return; }
  copy=$WORK_DIR/peers
  cp -r "$src" "$copy"
  rm -rf "$copy/results"
  log "peer: rust-pg through $src/run-me.sh"
  out=$(MODES=one PEERS=rust-pg PGBENCH=0 RUNS=1 CONNS=$CONNECTIONS DURATION=$DURATION \
    bash "$copy/run-me.sh" 2>"$WORK_DIR/peer.err") || die "run-me.sh failed: $(tail -5 "$WORK_DIR/peer.err")"
  row=$(grep '^| rust-pg | one |' <<<"$out") || die "run-me.sh printed no rust-pg row"
  # | server | tokens | req/s | x Express | x Fastify | / DB | p50 | p99 | ... | failed |
  PEER_RPS=$(awk -F'|' '{ gsub(/ /, "", $4); print $4 }' <<<"$row")
  PEER_ROW=$(awk -F'|' '{ gsub(/ /, "", $4); gsub(/ /, "", $8); gsub(/ /, "", $9); gsub(/ /, "", $15)
    printf "| rust-pg peer (PostgreSQL, pool 10) | %s | 1.00x | %s ms | %s ms | %s |", $4, $8, $9, $15 }' <<<"$row")
}

ensure_wrk
command -v psql >/dev/null || die "psql not found (apt-get install -y postgresql-client)"
psql -d postgres -qAtc 'select 1' >/dev/null || die "PostgreSQL not reachable at $PGHOST:$PGPORT as $PGUSER"
build_kitemate

trap 'cleanup; drop_bench_dbs || true' EXIT

NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
nats_hostport=${NATS_URL#nats://}
bench_peer
bench_backend SQLite
if (exec 3<>"/dev/tcp/${nats_hostport%:*}/${nats_hostport##*:}") 2>/dev/null; then
  bench_backend "PostgreSQL + NATS" \
    KITEMATE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/kmbench_$(date +%s)_$RANDOM" \
    KITEMATE_NATS_URL="$NATS_URL" KITEMATE_NATS_PREFIX=kmbench
else
  log "NATS not reachable at $NATS_URL: the PostgreSQL + NATS row is left out"
fi
bench_backend "PostgreSQL alone" \
  KITEMATE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/kmbench_$(date +%s)_$RANDOM"
drop_bench_dbs

echo "## GET /auth/me"
echo
machine_info
echo
echo "| server | req/s | × peer | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
[[ -z $PEER_ROW ]] || echo "$PEER_ROW"
printf %s "$ROWS"
