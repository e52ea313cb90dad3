#!/usr/bin/env bash
# A real `kitemate serve` on a fresh data folder for the browser suite.
# KITEMATE_BIN picks the binary (default: the workspace's debug build).
set -euo pipefail
port=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${KITEMATE_BIN:-$here/target/debug/kitemate}
data=$(mktemp -d)
export KITEMATE_LISTEN=127.0.0.1:$port
export KITEMATE_DATA_DIR=$data
export KITEMATE_LOG__LEVEL=warn
# Payments through the fake providers the billing journey starts on the next
# port (tests/fake-payments.ts; the keys are that file's).
fake=http://127.0.0.1:$((port + 1))
export KITEMATE_STRIPE_SECRET_KEY=sk_test_browser KITEMATE_STRIPE_WEBHOOK_SECRETS=whsec_browser \
  KITEMATE_RAZORPAY_KEY_ID=rzp_test_browser KITEMATE_RAZORPAY_KEY_SECRET=browser-key-secret \
  KITEMATE_RAZORPAY_WEBHOOK_SECRETS=browser-webhook-secret \
  KITEMATE_SUBSCRIPTIONS__STRIPE__API_ROOT=$fake KITEMATE_SUBSCRIPTIONS__RAZORPAY__API_ROOT=$fake/v1 \
  KITEMATE_SUBSCRIPTIONS__PLANS__PRO_MONTHLY__STRIPE_PRICE_ID=price_browser_monthly \
  KITEMATE_SUBSCRIPTIONS__PLANS__PRO_YEARLY__STRIPE_PRICE_ID=price_browser_yearly \
  KITEMATE_SUBSCRIPTIONS__PLANS__PRO_MONTHLY__RAZORPAY_PLAN_ID=plan_browser_monthly \
  KITEMATE_SUBSCRIPTIONS__PLANS__PRO_YEARLY__RAZORPAY_PLAN_ID=plan_browser_yearly
"$bin" serve &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT INT TERM
wait $server
