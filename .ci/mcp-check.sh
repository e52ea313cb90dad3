#!/usr/bin/env bash
# The official MCP Inspector CLI and conformance suite (pinned in
# tools/mcp-check/package-lock.json) against a running `kitemate serve` at
# $1: an account with a real tradebook, connected through the OAuth flow,
# then every kind of call the Inspector makes and the conformance server
# scenarios that apply (tools/mcp-check/check.mjs says which and why).
set -euo pipefail
base=$1
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/tools/mcp-check"
# `npm install` from the lock file, not `npm ci`: the registry here lacks a
# Windows-only optional package vite 8 names (the Inspector's web UI), which
# `npm ci` refuses to go without; every version installed is still the lock's.
npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
node check.mjs "$base" "$here/crates/kitemate/tests/data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv"
