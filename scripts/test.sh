#!/usr/bin/env bash
# Runs every test: unit tests, replay tests, and the end-to-end tests against a real
# Temporal dev server (started per test from .tools) and the local PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"

step "Running the test suite"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
# The crates have no doc tests; --all-targets skips the empty doc-test runs.
cargo test --workspace --all-targets --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nsuite: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
