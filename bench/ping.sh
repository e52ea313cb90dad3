#!/usr/bin/env bash
# POST /ping hello-world: Express, Fastify, bare hyper (../shared/peers/hyper-ping)
# and KiteMate, one after the other, in the same run so the ratios hold.
# Env: DURATION (10s), CONNECTIONS (150), BASE_PORT (18080), SKIP_BUILD=1, KITEMATE_BIN,
#      PEERS_DIR (../shared/peers; PEERS_DIR= leaves bare hyper out).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_PORT=${BASE_PORT:-18080}
BODY='{"name":"World"}'
EXPECTED='{"message":"Hello World!"}'

ensure_wrk
[[ -d $BENCH_DIR/node_modules ]] || (cd "$BENCH_DIR" && npm ci --no-audit --no-fund)
build_kitemate

# bench_one NAME PORT: the server is already starting as SERVER_PID; leaves RESULT.
bench_one() {
  local name=$1 url="http://127.0.0.1:$2/ping" out body bad err
  wait_ready "$url" -X POST -H 'Content-Type: application/json' -d "$BODY"
  body=$(curl -fs -w ' %{content_type}' -X POST -H 'Content-Type: application/json' -d "$BODY" "$url")
  [[ $body == "$EXPECTED application/json"* ]] || die "$name answered: $body"
  if [[ $name == KiteMate ]]; then
    sleep 1
    IDLE_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
  fi
  log "$name: wrk -c$CONNECTIONS -d$DURATION $url"
  out=$WORK_DIR/wrk-$name.txt
  run_wrk "$out" -s "$BENCH_DIR/ping.lua" "$url"
  [[ $name == KiteMate ]] && PEAK_RSS=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
  stop_server
  RESULT=$(parse_wrk "$out") || die "could not parse wrk output: $(cat "$out")"
  read -r _ _ _ bad err <<<"$RESULT"
  warn_errors "$name" "$bad" "$err"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
version() { node -p "require('$BENCH_DIR/node_modules/$1/package.json').version"; }

start_node() {
  port_free "$2" || die "port $2 is already in use"
  PORT=$2 node "$BENCH_DIR/$1/server.js" &
  SERVER_PID=$! PIDS+=("$SERVER_PID")
}

start_node express $((BASE_PORT + 1))
bench_one Express $((BASE_PORT + 1)); EXPRESS=$RESULT

start_node fastify $((BASE_PORT + 2))
bench_one Fastify $((BASE_PORT + 2)); FASTIFY=$RESULT

# Bare hyper, built from a copy so the shared folder stays untouched.
HYPER=""
hyper_src=${PEERS_DIR-$ROOT_DIR/../shared/peers}/hyper-ping
if [[ -n ${PEERS_DIR-x} && -d $hyper_src ]]; then
  cp -r "$hyper_src" "$WORK_DIR/hyper-ping"
  rm -rf "$WORK_DIR/hyper-ping/target"
  log "building the bare hyper peer"
  cargo build -q --release --manifest-path "$WORK_DIR/hyper-ping/Cargo.toml" ||
    die "could not build $hyper_src"
  port_free $((BASE_PORT + 4)) || die "port $((BASE_PORT + 4)) is already in use"
  PORT=$((BASE_PORT + 4)) "$WORK_DIR/hyper-ping/target/release/hyper-ping" &
  SERVER_PID=$! PIDS+=("$SERVER_PID")
  bench_one hyper $((BASE_PORT + 4)); HYPER=$RESULT
else
  log "no peers folder; bare hyper is left out"
fi

start_kitemate $((BASE_PORT + 3)) "$WORK_DIR/data"
bench_one KiteMate $((BASE_PORT + 3)); KITEMATE=$RESULT

read -r e_rps _ <<<"$EXPRESS"
read -r f_rps _ <<<"$FASTIFY"
read -r k_rps _ <<<"$KITEMATE"
row() {
  local rps p50 p99 bad err
  read -r rps p50 p99 bad err <<<"$2"
  echo "| $1 | $rps | $p50 ms | $p99 ms | $(ratio "$rps" "$e_rps") | $((bad + err)) |"
}

mkdir -p "$BENCH_DIR/results"
{
  echo "## POST /ping hello-world"
  echo
  machine_info
  echo
  echo "| server | req/s | p50 | p99 | vs Express | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  row "Express $(version express)" "$EXPRESS"
  row "Fastify $(version fastify)" "$FASTIFY"
  [[ -n $HYPER ]] && row "bare hyper" "$HYPER"
  row "KiteMate" "$KITEMATE"
  echo
  echo "- KiteMate vs Fastify: $(ratio "$k_rps" "$f_rps")"
  if [[ -n $HYPER ]]; then
    read -r h_rps _ <<<"$HYPER"
    echo "- KiteMate vs bare hyper: $(ratio "$k_rps" "$h_rps") (target 0.75)"
  fi
  echo "- KiteMate RSS: idle $(mib "$IDLE_RSS") MiB, peak under load (VmHWM) $(mib "$PEAK_RSS") MiB"
} | tee "$BENCH_DIR/results/ping-latest.md"
