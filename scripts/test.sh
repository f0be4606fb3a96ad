#!/usr/bin/env bash
# Runs every test: unit tests, replay tests, the end-to-end tests against a real Temporal
# dev server (started per test from .tools) and the local PostgreSQL, and the offline
# checks of the deployment manifests (scripts/check-deploy.sh), the lints and the formatting.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
step "Building the binaries and the tests"
# Some end-to-end tests run a service's own binary (e.g. killing the payment worker);
# `cargo test` builds only the test harnesses, so build the real executables first. All
# targets at once: built with the tests' dev-dependencies, the binaries share their
# dependencies' builds with the tests instead of compiling them a second time.
cargo build --workspace --all-targets 2>&1 | tee "$log"
build_status=${PIPESTATUS[0]}
step "Running the test suite"
# The crates have no doc tests; --all-targets skips the empty doc-test runs. cargo-nextest
# runs the test binaries side by side (settings in .config/nextest.toml), each test in a
# process of its own; without it, cargo test runs them one binary after another.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-targets --no-fail-fast "$@" 2>&1 | tee -a "$log"
  cargo_status=${PIPESTATUS[0]}
else
  note "cargo-nextest is not installed: running the tests with cargo test (slower)"
  cargo test --workspace --all-targets --no-fail-fast "$@" 2>&1 | tee -a "$log"
  cargo_status=${PIPESTATUS[0]}
fi
step "Checking the deployment manifests"
"$ROOT/scripts/check-deploy.sh" 2>&1 | tee -a "$log"
deploy_status=${PIPESTATUS[0]}
step "Checking the lints (cargo clippy)"
# Every target, warnings as errors: the workspace's lints (unreachable_pub, dbg_macro) and
# clippy's defaults hold in CI, not only in editors.
if cargo clippy --workspace --all-targets -- -D warnings 2>&1 | tee -a "$log"; then
  echo "clippy: 1 passed, 0 failed" | tee -a "$log"; clippy_status=0
else
  echo "clippy: 0 passed, 1 failed (see the lints above)" | tee -a "$log"; clippy_status=1
fi
step "Checking the formatting (cargo fmt)"
fmt_status=0
if ! cargo fmt --version >/dev/null 2>&1; then
  note "rustfmt is not installed with this toolchain: formatting not checked"
elif cargo fmt --all -- --check; then
  echo "format-check: 1 passed, 0 failed" | tee -a "$log"; fmt_status=0
else
  echo "format-check: 0 passed, 1 failed (run cargo fmt --all)" | tee -a "$log"; fmt_status=1
fi
set -e

# One closing line for the whole suite: every test binary and every deployment check.
awk '/^test result:|^ *Summary \[/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^(deploy-checks|format-check|clippy):/ { p += $2; f += $4 }
     END { printf "\nsuite: %d passed, %d failed\n", p, f }' "$log"
if grep -q '^error: could not compile' "$log"; then
  echo "suite: some code did not compile (see the errors above); its tests did not run"
fi
[ "$build_status" -eq 0 ] && [ "$cargo_status" -eq 0 ] && [ "$deploy_status" -eq 0 ] && [ "$clippy_status" -eq 0 ] && [ "$fmt_status" -eq 0 ]
