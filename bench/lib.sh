# shellcheck shell=bash
# Helpers shared by bench/*.sh (sourced, not run).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
KITEMATE_BIN=${KITEMATE_BIN:-$ROOT_DIR/target/release/kitemate}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-150}
THREADS=${THREADS:-2}

PIDS=()
WORK_DIR=$(mktemp -d -t kmbench.XXXXXX) # data dirs and wrk output; removed on exit

die() { echo "error: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_wrk() {
  command -v wrk >/dev/null && return
  log "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } ||
    die "could not install wrk"
}

build_kitemate() {
  if [[ ${SKIP_BUILD:-0} == 1 ]]; then
    log "SKIP_BUILD=1: using $KITEMATE_BIN as is"
  else
    log "cargo build --release -p kitemate"
    (cd "$ROOT_DIR" && cargo build --release -p kitemate)
  fi
  [[ -x $KITEMATE_BIN ]] || die "$KITEMATE_BIN not found"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_kitemate PORT DATA_DIR [extra env...] -> sets SERVER_PID
start_kitemate() {
  local port=$1 data=$2; shift 2
  port_free "$port" || die "port $port is already in use"
  mkdir -p "$data"
  env -u KITEMATE_BIN KITEMATE_LISTEN="127.0.0.1:$port" KITEMATE_DATA_DIR="$data" \
    KITEMATE_RATE_LIMIT__ENABLED=false KITEMATE_LOG__LEVEL=warn "$@" \
    "$KITEMATE_BIN" serve &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p == "$SERVER_PID" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# wait_ready URL [curl args...]: poll until the server answers 2xx (30 s max).
wait_ready() {
  local url=$1 deadline=$((SECONDS + 30)); shift
  until curl -fs -o /dev/null --max-time 1 "$@" "$url"; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "server for $url exited"
    ((SECONDS < deadline)) || die "server for $url not ready after 30 s"
    sleep 0.05
  done
}

# run_wrk OUTFILE wrk-args... : warm up 2 s, then the measured run with --latency.
run_wrk() {
  local out=$1; shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$@" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$out"
}

# parse_wrk FILE -> "req_per_s p50_ms p99_ms non2xx socket_errors"
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000
      return v * 1000
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
    END {
      if (rps == "") exit 1
      printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, bad, err
    }' "$1"
}

# warn_errors NAME NON2XX SOCKET_ERRORS
warn_errors() {
  (($2 == 0 && $3 == 0)) || echo "WARNING: $1: $2 non-2xx responses, $3 socket errors" >&2
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }

machine_info() {
  echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "- node $(node --version), $(wrk --version 2>&1 | head -n1 | awk '{ print "wrk", $2 }')"
  echo "- kitemate: $(git -C "$ROOT_DIR" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "- errors: non-2xx responses + socket errors (timeouts are requests over 2 s)"
  echo "- load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a 2 s warm-up), $(date -u +%F)"
}

# holdings_tradebook N: a Console tradebook of N securities (SYM0.., made-up
# ISINs), three buys and a sale of each over two years: every one still held.
holdings_tradebook() {
  python3 - "$1" <<'PY'
import datetime, sys
n = int(sys.argv[1])
print("symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time")
start = datetime.date(2023, 4, 3)
trade = 1
for s in range(n):
    for k, (side, qty) in enumerate([("buy", 10), ("buy", 5), ("sell", 4), ("buy", 7)]):
        day = start + datetime.timedelta(days=s * 7 + k * 60)
        price = 100 + s * 13 + k * 4
        print(f"SYM{s},INE{s:05}A010,{day},NSE,EQ,EQ,{side},false,{qty}.000000,{price}.050000,"
              f"{trade},{1000 + trade},{day}T10:00:00")
        trade += 1
PY
}

# signup_token BASE: signs up bench@example.com and prints the session token.
signup_token() {
  curl -fsS -X POST "$1/auth/signup" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery staple","username":"bench"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# serve_portfolio PORT HOLDINGS: starts kitemate on PORT (data in
# $WORK_DIR/data), signs up bench@example.com and imports a tradebook of
# HOLDINGS securities; sets `base` and `token`.
serve_portfolio() {
  base="http://127.0.0.1:$1"
  start_kitemate "$1" "$WORK_DIR/data"
  wait_ready "$base/ping" -X POST -H 'Content-Type: application/json' -d '{"name":"World"}'
  token=$(signup_token "$base") || die "POST /auth/signup gave no token"
  holdings_tradebook "$2" >"$WORK_DIR/tradebook.csv"
  curl -fsS -o /dev/null -X POST "$base/portfolio/import" -H "Authorization: Bearer $token" \
    -H 'content-type: text/csv' --data-binary "@$WORK_DIR/tradebook.csv" ||
    die "POST /portfolio/import failed"
}
