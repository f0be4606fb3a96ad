#!/usr/bin/env bash
# The booking flow over HTTP, as a traveller goes through it, against a running deployment:
# readiness, sign-in, the catalog, rooms left, the price, a card booking confirmed by its
# saga and captured, and the same request again finding the same booking.
#
#   scripts/smoke-booking.sh [BASE_URL]      (default http://127.0.0.1:8080, what `make up` serves)
#
# Environment:
#   SMOKE_HOST_HEADER    sent as `Host:` on every request (an Ingress routing by host name)
#   SMOKE_EMAIL          the traveller who books (default the demo traveller of `make up`)
#   SMOKE_PASSWORD       their password (default the demo password)
#   SMOKE_ACCOMMODATION  the stay booked (default ujjayanta-heritage-hotel)
#   SMOKE_ROOM_TYPE      its room type (default deluxe_double)
#   SMOKE_CONFIRM_SECS   how long the booking may take to be confirmed (default 120)
#
# One line per step; a failed step prints the HTTP status and the body. The last line is
# `smoke: 1 passed, 0 failed` or `smoke: 0 passed, 1 failed` (exit status 1).
# Needs curl and python3 (standard library only).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

[ "$#" -le 1 ] || die "usage: $0 [BASE_URL]"
BASE_URL="${1:-http://127.0.0.1:8080}"
BASE_URL="${BASE_URL%/}"
HOST_HEADER="${SMOKE_HOST_HEADER:-}"
EMAIL="${SMOKE_EMAIL:-traveller@demo.tripura.travel}"
PASSWORD="${SMOKE_PASSWORD:-Tripura-demo-2026}"
ACCOMMODATION="${SMOKE_ACCOMMODATION:-ujjayanta-heritage-hotel}"
ROOM_TYPE="${SMOKE_ROOM_TYPE:-deluxe_double}"
CONFIRM_SECS="${SMOKE_CONFIRM_SECS:-120}"
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed"

tmp="$(mktemp -d)"
finished=""
on_exit() {
  # Whatever stopped the script before the end (a failed step, a broken tool) is a failure.
  [ -n "$finished" ] || echo "smoke: 0 passed, 1 failed"
  rm -rf "$tmp"
}
trap on_exit EXIT

# The last answer: its HTTP status ("000" when there was none) and its body.
status=""
body=""
# http METHOD PATH JSON_BODY [HEADER...]: one request (JSON_BODY "" for none).
http() {
  local method="$1" path="$2" data="$3"
  shift 3
  local args=(-sS -X "$method" -o "$tmp/body" -w '%{http_code}' --connect-timeout 10 --max-time 40
    -H 'Accept: application/json')
  if [ -n "$HOST_HEADER" ]; then args+=(-H "Host: $HOST_HEADER"); fi
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$data"); fi
  local header
  for header in "$@"; do args+=(-H "$header"); done
  rm -f "$tmp/body"
  status="$(curl "${args[@]}" "$BASE_URL$path" 2>"$tmp/curl-error")" || true
  [ -n "$status" ] || status="000"
  if [ -s "$tmp/body" ]; then body="$(cat "$tmp/body")"; else body="$(cat "$tmp/curl-error")"; fi
}

# py EXPRESSION: evaluates a Python expression over the last body parsed as JSON (`b`);
# prints strings as they are and anything else as JSON. Fails when the body is not JSON or
# the expression raises.
py() {
  python3 -c '
import json, sys
b = json.loads(sys.stdin.read())
v = eval(sys.argv[1], {"b": b})
print(v if isinstance(v, str) else json.dumps(v))
' "$1" <<<"$body" 2>/dev/null
}

# check EXPRESSION: the Python expression over the last body (`b`) is true.
check() { [ "$(py "bool($1)" || echo false)" = "true" ]; }

ok() { printf 'ok    %-13s %s\n' "$1" "$2"; }
fail() { # step, what went wrong: prints the last answer and ends the run
  printf 'FAIL  %-13s %s\n' "$1" "$2"
  printf '      HTTP %s %s\n' "$status" "$(printf '%s' "$body" | head -c 2000)"
  exit 1
}
# expect STEP HTTP_STATUS: the last answer has that status and a JSON body.
expect() {
  [ "$status" = "$2" ] || fail "$1" "expected HTTP $2"
  py 'None' >/dev/null || fail "$1" "the answer is not JSON"
}

bearer=()
started=$SECONDS

# 1. Ready: the databases and Temporal answer.
http GET /readyz ""
expect health 200
check 'b["status"] == "ready"' || fail health "not ready"
ok health "$BASE_URL${HOST_HEADER:+ (Host: $HOST_HEADER)} is ready: $(py '" ".join(k + "=" + v for k, v in sorted(b["checks"].items()))')"

# 2. Sign in.
login="$(python3 -c 'import json, sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$EMAIL" "$PASSWORD")"
http POST /api/auth/login "$login"
expect sign-in 200
token="$(py 'b["access_token"]')" || token=""
[ -n "$token" ] || fail sign-in "no access_token"
check 'b["token_type"] == "Bearer"' || fail sign-in "token_type is not Bearer"
bearer=("Authorization: Bearer $token")
ok sign-in "$EMAIL (access token for $(py 'b["expires_in"]') s)"

# 3. The catalog lists the stay with its room type.
http GET "/api/catalog/accommodations?limit=100" ""
expect catalog 200
match="[a for a in b['items'] if a['code'] == '$ACCOMMODATION']"
check "$match and any(r['room_type'] == '$ROOM_TYPE' for r in ${match}[0]['room_types'])" ||
  fail catalog "$ACCOMMODATION with room type $ROOM_TYPE is not in the first page of stays"
ok catalog "$(py 'len(b["items"])') stays listed, $ACCOMMODATION ($(py "${match}[0]['destination']['code']")) sells $ROOM_TYPE"

# 4. Two nights with rooms free: random dates 20 to 170 days ahead (the demo catalog sells
# 180 nights from the day it was loaded), so that runs rarely share a night; a few tries.
dates_from_today() { # offset in days: prints "check_in check_out" (two nights)
  python3 -c 'import datetime, sys; d = datetime.date.today() + datetime.timedelta(days=int(sys.argv[1])); print(d, d + datetime.timedelta(days=2))' "$1"
}
check_in=""
for _ in 1 2 3 4 5; do
  read -r try_in try_out <<<"$(dates_from_today $((20 + RANDOM % 151)))"
  http GET "/api/inventory/availability?accommodation=$ACCOMMODATION&room_type=$ROOM_TYPE&from=$try_in&to=$try_out" ""
  expect availability 200
  if check 'len(b["nights"]) == 2 and all(n["available"] >= 1 for n in b["nights"])'; then
    check_in="$try_in"; check_out="$try_out"; break
  fi
done
[ -n "$check_in" ] || fail availability "no two free nights found in 5 random tries"
ok availability "$check_in to $check_out: $(py '", ".join("%s %d free" % (n["night"], n["available"]) for n in b["nights"])')"

# 5. The dated search lists the stay; the quote is what the booking must charge.
http GET "/api/catalog/accommodations?check_in=$check_in&check_out=$check_out&rooms=1&limit=100" ""
expect search 200
check "any(a['code'] == '$ACCOMMODATION' for a in b['items'])" || fail search "$ACCOMMODATION is not listed as free on those dates"
ok search "$ACCOMMODATION is listed as free for $check_in to $check_out"
http GET "/api/catalog/quote?accommodation=$ACCOMMODATION&room_type=$ROOM_TYPE&check_in=$check_in&check_out=$check_out" ""
expect quote 200
check 'len(b["lines"]) == 2 and b["total"]["amount"] > 0' || fail quote "expected two priced nights"
quote_total="$(py 'b["total"]["amount"]')"
currency="$(py 'b["total"]["currency"]')"
ok quote "$quote_total paise $currency for two nights (GST $(py 'b["gst_total"]["amount"]') paise)"

# 6. Book with a card that pays, under an Idempotency-Key.
idempotency_key="smoke-$(date +%s)-$RANDOM$RANDOM"
booking="$(python3 -c '
import json, sys
accommodation, room_type, check_in, check_out = sys.argv[1:5]
print(json.dumps({
    "accommodation": accommodation, "room_type": room_type,
    "check_in": check_in, "check_out": check_out, "rooms": 1, "guests": 2,
    "lead_traveller": {"name": "Smoke Test", "email": "smoke-test@example.in", "phone": "+919876543210"},
    "payment": {"method": "card", "card_token": "tok_success"},
}))' "$ACCOMMODATION" "$ROOM_TYPE" "$check_in" "$check_out")"
http POST /api/bookings "$booking" "${bearer[@]}" "Idempotency-Key: $idempotency_key"
expect book 202
booking_ref="$(py 'b["booking_ref"]')" || fail book "no booking_ref"
[[ "$booking_ref" =~ ^TRP-[A-Z0-9]+$ ]] || fail book "booking_ref $booking_ref does not look like TRP-…"
check "b['status_url'] == '/api/bookings/$booking_ref'" || fail book "unexpected status_url"
ok book "$booking_ref accepted ($(py 'b["status"]'), Idempotency-Key $idempotency_key)"

# 7. Long-poll until the saga has confirmed it, within CONFIRM_SECS.
deadline=$((SECONDS + CONFIRM_SECS))
polls=0
booked_at=$SECONDS
while :; do
  http GET "/api/bookings/$booking_ref?wait=10" "" "${bearer[@]}"
  polls=$((polls + 1))
  expect confirmed 200
  booking_status="$(py 'b["status"]')"
  case "$booking_status" in
    confirmed) break ;;
    failed | expired | cancelled | cancelling) fail confirmed "the booking ended $booking_status" ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || fail confirmed "still $booking_status after ${CONFIRM_SECS}s"
done
ok confirmed "$booking_ref confirmed after $((SECONDS - booked_at))s ($polls poll(s) with ?wait=10)"

# 8. Paid: the quoted total captured once, nothing due, nothing refunded, no failure.
paid_ok() {
  check "b['total']['amount'] == $quote_total and b['total']['currency'] == '$currency'
    and (b.get('amount_charged') or {}).get('amount') == $quote_total
    and b['amount_due']['amount'] == 0
    and (b.get('amount_refunded') or {}).get('amount', 0) == 0
    and b['failure'] is None
    and b['check_in'] == '$check_in' and b['check_out'] == '$check_out' and b['rooms'] == 1"
}
paid_ok || fail paid "expected total = amount_charged = $quote_total, amount_due 0, no refund, no failure"
ok paid "amount_charged $(py 'b["amount_charged"]["amount"]') = total, amount_due 0, amount_refunded $(py 'b["amount_refunded"]')"

# 9. The same request with the same Idempotency-Key finds the same booking.
http POST /api/bookings "$booking" "${bearer[@]}" "Idempotency-Key: $idempotency_key"
expect repeat 202
check "b['booking_ref'] == '$booking_ref'" || fail repeat "another booking_ref than $booking_ref"
ok repeat "same Idempotency-Key answers $booking_ref ($(py 'b["status"]'))"

# 10. One booking, charged once: listed once among the traveller's bookings, and its money
# unchanged after the repeat.
http GET "/api/bookings?limit=100" "" "${bearer[@]}"
expect one-booking 200
check "sum(i['booking_ref'] == '$booking_ref' for i in b['items']) == 1" || fail one-booking "$booking_ref is not listed exactly once"
check "[i['status'] for i in b['items'] if i['booking_ref'] == '$booking_ref'] == ['confirmed']" ||
  fail one-booking "$booking_ref is not listed as confirmed"
http GET "/api/bookings/$booking_ref" "" "${bearer[@]}"
expect one-booking 200
check 'b["status"] == "confirmed"' || fail one-booking "$booking_ref is no longer confirmed"
paid_ok || fail one-booking "the booking's money changed after the repeated request"
ok one-booking "$booking_ref listed once as confirmed, still charged $quote_total paise once (flow took $((SECONDS - started))s)"

finished=1
echo "smoke: 1 passed, 0 failed"
