#!/usr/bin/env bash
# Runs every test: unit tests, replay tests, the end-to-end tests against a real Temporal
# dev server (started per test from .tools) and the local PostgreSQL, the booking flow over
# HTTP against the local stack (scripts/smoke-booking.sh against `make up`), the travellers'
# web pages in Chromium against the same stack (scripts/browser-tests.sh), property-based
# tests of the API against its OpenAPI document (scripts/api-contract.sh), and the offline
# checks of the deployment manifests (scripts/check-deploy.sh), the lints and the formatting.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" --browser

log="$(mktemp)"
# The process group of the dev stack the smoke test starts (empty when none runs).
dev_up_group=""
trap 'stop_dev_up; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# Stops the dev stack started for the smoke test, with all its children: TERM (dev-up.sh
# then stops what it started), then KILL for whatever is left after 30 seconds.
stop_dev_up() {
  [ -n "$dev_up_group" ] || return 0
  local group="$dev_up_group" waited=0
  dev_up_group=""
  kill -TERM -- "-$group" 2>/dev/null || true
  while kill -0 -- "-$group" 2>/dev/null && [ "$waited" -lt 60 ]; do
    sleep 0.5; waited=$((waited + 1))
  done
  kill -KILL -- "-$group" 2>/dev/null || true
  wait "$group" 2>/dev/null || true
}

# stack_tests TITLE SCRIPT NAME URL: scripts/SCRIPT against the stack at URL, whose last
# line is `NAME: N passed, M failed`. A run that broke before that line (a missing
# browser, say) still counts as a failure.
stack_tests() {
  step "$1"
  "$ROOT/scripts/$2" "$4" 2>&1 | tee -a "$log"
  local status=${PIPESTATUS[0]}
  tail -n 1 "$log" | grep -q "^$3: " || echo "$3: 0 passed, 1 failed" | tee -a "$log"
  return "$status"
}

# The travellers' web pages in Chromium, then property-based tests of the API against its
# OpenAPI document, against the stack at $1.
browser_and_contract_tests() {
  local status=0
  stack_tests "Browser tests of the travellers' pages" browser-tests.sh browser "$1" || status=1
  stack_tests "Property-based API tests against the OpenAPI document" api-contract.sh contract "$1" || status=1
  return "$status"
}

# The booking flow over HTTP (scripts/smoke-booking.sh) against the stack of `make up`: a
# developer's running `make up` is tested as it is; otherwise scripts/dev-up.sh is started
# in a process group of its own for the test and stopped after it, whatever happened.
smoke_against_dev_stack() {
  local api="127.0.0.1:8080" ready_secs=300 dir status=0
  if (exec 3<>"/dev/tcp/${api%:*}/${api##*:}") 2>/dev/null; then
    note "$api is already serving (a running \`make up\`?): testing it as it is"
    "$ROOT/scripts/smoke-booking.sh" "http://$api" 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
    browser_and_contract_tests "http://$api" || status=1
    return "$status"
  fi
  dir="$(mktemp -d)"
  # The binaries were built above, with every target: dev-up.sh runs them as they are.
  setsid env SKIP_BUILD=1 "$ROOT/scripts/dev-up.sh" >"$dir/dev-up.log" 2>&1 </dev/null &
  # Without job control the child is no group leader, so setsid makes it one in place:
  # its pid is the id of the new process group.
  dev_up_group=$!
  note "started scripts/dev-up.sh (process group $dev_up_group, log $dir/dev-up.log)"
  local deadline=$((SECONDS + ready_secs)) ready=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -fsS -o /dev/null --max-time 5 "http://$api/readyz" 2>/dev/null; then ready=1; break; fi
    kill -0 "$dev_up_group" 2>/dev/null || break
    sleep 1
  done
  if [ -n "$ready" ]; then
    note "the API answers /readyz after $((ready_secs - deadline + SECONDS))s"
    "$ROOT/scripts/smoke-booking.sh" "http://$api" 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
    browser_and_contract_tests "http://$api" || status=1
  else
    if kill -0 "$dev_up_group" 2>/dev/null; then
      echo "the API did not answer http://$api/readyz within ${ready_secs}s"
    else
      echo "scripts/dev-up.sh exited before the API was ready"
    fi
    status=1
  fi
  if [ "$status" -ne 0 ]; then
    echo "--- tail of $dir/dev-up.log"; tail -n 40 "$dir/dev-up.log"
    local service_log
    for service_log in "$DATA"/logs/*.log; do
      [ -f "$service_log" ] || continue
      echo "--- tail of ${service_log#"$ROOT"/}"; tail -n 20 "$service_log"
    done
    # dev-up.sh never got as far as the smoke test: count that as the smoke test, the
    # browser tests and the contract tests failing.
    [ -n "$ready" ] || printf 'smoke: 0 passed, 1 failed\nbrowser: 0 passed, 1 failed\ncontract: 0 passed, 1 failed\n' | tee -a "$log"
  fi
  stop_dev_up
  if [ "$status" -eq 0 ]; then rm -rf "$dir"; else note "dev-up.sh's log is kept in $dir"; fi
  return "$status"
}
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
step "Booking-flow smoke test, browser tests and API contract tests against \`make up\`"
# The whole booking flow over HTTP, as a traveller goes through it, against the processes
# `make up` runs, on the binaries built above.
smoke_against_dev_stack
smoke_status=$?
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

# One closing line for the whole suite: every test binary, the smoke test and every check.
awk '/^test result:|^ *Summary \[/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|timed)/) f += $i } }
     /^(deploy-checks|format-check|clippy|smoke|browser|contract):/ { p += $2; f += $4 }
     END { printf "\nsuite: %d passed, %d failed\n", p, f }' "$log"
if grep -q '^error: could not compile' "$log"; then
  echo "suite: some code did not compile (see the errors above); its tests did not run"
fi
[ "$build_status" -eq 0 ] && [ "$cargo_status" -eq 0 ] && [ "$smoke_status" -eq 0 ] && [ "$deploy_status" -eq 0 ] && [ "$clippy_status" -eq 0 ] && [ "$fmt_status" -eq 0 ]
