#!/usr/bin/env bash
# Runs every test: unit tests, replay tests, and the end-to-end tests against a real
# Temporal dev server (started per test from .tools) and the local PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
step "Running the test suite"
cargo test --workspace --no-fail-fast "$@"
