#!/usr/bin/env bash
# Brings the whole platform up locally: prerequisites, build, Temporal dev server (with its
# Web UI), migrations, demo data, the sandbox gateway, one worker process per context and
# the API. Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

API_ADDR="${TT_API_ADDR:-127.0.0.1:8080}"
GATEWAY_ADDR="${TT_SANDBOX_ADDR:-127.0.0.1:8090}"
TEMPORAL_PORT=7233
# Operators open the Web UI on UI_PORT: web-ui-proxy serves there the dev server's UI (on
# UI_UPSTREAM_PORT, not for browsers) and the API's payload codec, on one origin.
UI_PORT=8233
UI_UPSTREAM_PORT=8234
export TT_DATABASE_URL="${TT_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tripura}"
export TT_TEMPORAL_ADDRESS="${TT_TEMPORAL_ADDRESS:-http://127.0.0.1:$TEMPORAL_PORT}"
export TT_GATEWAY_URL="${TT_GATEWAY_URL:-http://$GATEWAY_ADDR/}"
export TT_API_ADDR="$API_ADDR" TT_SANDBOX_ADDR="$GATEWAY_ADDR"
# The development switch: without it every process refuses to start without its secrets
# (here the sandbox gateway's public ones stand in) and refuses unsealed Temporal payloads.
export TT_ENVIRONMENT="${TT_ENVIRONMENT:-development}"

"$ROOT/scripts/bootstrap.sh"

for addr in "$API_ADDR" "$GATEWAY_ADDR" "127.0.0.1:$TEMPORAL_PORT" "127.0.0.1:$UI_PORT" "127.0.0.1:$UI_UPSTREAM_PORT"; do
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
    die "$addr is already in use: is the platform already running? (stop it, or free the port)"
  fi
done

# scripts/test.sh has just built every target (with the tests' dev-dependencies, whose
# features differ): SKIP_BUILD=1 runs those binaries instead of compiling again.
if [ "${SKIP_BUILD:-}" != 1 ]; then
  step "Building (first build takes a while: the Temporal SDK is large)"
  cargo build --bins
fi

mkdir -p "$DATA/logs"
pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ "${#pids[@]}" -gt 0 ]; then
    echo; step "Stopping"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT
start() { # name, command...
  local name="$1"; shift
  "$@" >>"$DATA/logs/$name.log" 2>&1 &
  pids+=("$!")
  note "$name (pid $!, log .data/logs/$name.log)"
}

step "Making the payload key ring if there is none (.data/payload-keys)"
# Workflow inputs carry travellers' names, emails and phones: every process seals them
# with this key before Temporal stores them. Keep the file: workflows it sealed need it.
export TT_PAYLOAD_KEYS_FILE="${TT_PAYLOAD_KEYS_FILE:-$DATA/payload-keys}"
if [ -z "${TT_PAYLOAD_KEYS:-}" ] && [ ! -s "$TT_PAYLOAD_KEYS_FILE" ]; then
  (umask 077 && printf 'dev-%s:%s\n' "$(date +%Y%m%d)" "$(head -c 32 /dev/urandom | base64)" >"$TT_PAYLOAD_KEYS_FILE")
fi

step "Starting the Temporal dev server (workflows kept in .data/temporal.db) and its Web UI"
# The Web UI asks the codec at /api/codec on its own origin to open sealed payloads:
# web-ui-proxy sends that path to the API and the rest to the UI, so the operator's codec
# sign-in cookie goes with the UI's requests and no browser setting is needed (see
# docs/operations.md, "Reading sealed payloads").
# shellcheck disable=SC2046
start temporal "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$UI_UPSTREAM_PORT" \
  --db-filename "$DATA/temporal.db" --log-level warn --ui-disable-news-fetch \
  --ui-codec-endpoint /api/codec $(dev_server_flags)
start web-ui-proxy target/debug/web-ui-proxy "127.0.0.1:$UI_PORT" "127.0.0.1:$UI_UPSTREAM_PORT" "$API_ADDR"
wait_for "Temporal" "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT"

step "Applying migrations, loading the demo catalog and users, making the token keys"
target/debug/migrate
target/debug/seed-demo
export TT_AUTH_KEYS_FILE="${TT_AUTH_KEYS_FILE:-$DATA/auth-keys.json}"
target/debug/auth-keys init "$TT_AUTH_KEYS_FILE"

step "Starting the sandbox gateway, the workers and the API"
start sandbox-gateway env TT_GATEWAY_WEBHOOK_URL="http://$API_ADDR/api/payments/webhooks/gateway" target/debug/sandbox-gateway
metrics_port=9101
for context in booking inventory payment partner; do
  start "$context-worker" env TT_METRICS_ADDR="127.0.0.1:$metrics_port" "target/debug/$context-worker"
  metrics_port=$((metrics_port + 1))
done
start api target/debug/api
wait_for "the API" curl -fsS "http://$API_ADDR/readyz"

check_in="$(date -d '+14 days' +%F)"; check_out="$(date -d '+16 days' +%F)"
cat <<MSG

  Tripura Tourism is up.
    Web pages    http://$API_ADDR/   (sign in as the demo traveller, or sign up)
    API          http://$API_ADDR/api
    API docs     http://$API_ADDR/api/docs
    Temporal UI  http://127.0.0.1:$UI_PORT   (search: BookingRef = 'TRP-…' or BookingStatus = 'failed')
                 travellers' details in it: sign in as an operator at http://127.0.0.1:$UI_PORT/api/codec/sign-in
    Gateway      http://$GATEWAY_ADDR  (sandbox; card token tok_decline is declined)
    Metrics      http://$API_ADDR/metrics, workers on http://127.0.0.1:9101..9104/metrics

  Demo users (password Tripura-demo-2026): traveller@, manager@, operator@, admin@demo.tripura.travel

  Sign in, then make a booking:
    token=\$(curl -s -X POST http://$API_ADDR/api/auth/login -H 'Content-Type: application/json' -d '{"email":"traveller@demo.tripura.travel","password":"Tripura-demo-2026"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    curl -s -X POST http://$API_ADDR/api/bookings -H "Authorization: Bearer \$token" -H 'Content-Type: application/json' -H "Idempotency-Key: \$(uuidgen 2>/dev/null || date +%s%N)" -d '{"accommodation":"ujjayanta-heritage-hotel","room_type":"deluxe_double","check_in":"$check_in","check_out":"$check_out","rooms":1,"guests":2,"lead_traveller":{"name":"Ananya Debbarma","email":"ananya@example.in","phone":"+919876543210"},"payment":{"method":"card","card_token":"tok_success"}}'
  Then: curl -s -H "Authorization: Bearer \$token" "http://$API_ADDR/api/bookings/<booking_ref>?wait=10"

  Logs in .data/logs. Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
die "a process exited; see .data/logs"
