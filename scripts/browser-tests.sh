#!/usr/bin/env bash
# The platform in Chromium against a running stack (tests/browser):
#
#   traveller.mjs    the travellers' web pages: search, sign-up, booking, paying on the
#                    gateway's page, a declined card, a reload and a double click mid-saga,
#                    cancelling; axe-core on every page; screenshots at phone and desktop
#                    widths
#   operator-ui.mjs  the Temporal Web UI as operators use it: an operator signed in on the
#                    codec's sign-in page reads a booking saga's lead traveller in clear, a
#                    traveller's sign-in is refused and the same page stays sealed
#
#   scripts/browser-tests.sh [BASE_URL [WEB_UI_URL]]
#     (defaults http://127.0.0.1:8080 and http://127.0.0.1:8233, what `make up` serves)
#
# Screenshots in target/browser-artifacts. The last line is `browser: N passed, M failed`,
# over both; a script that stopped before its count counts as one failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
BASE_URL="${1:-http://127.0.0.1:8080}"
WEB_UI_URL="${2:-http://127.0.0.1:8233}"
"$ROOT/scripts/bootstrap.sh" --browser >/dev/null
artifacts="$ROOT/target/browser-artifacts"
rm -rf "$artifacts"
note "screenshots in ${artifacts#"$ROOT"/}"

passed=0
failed=0
status=0
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# run LABEL SCRIPT ARGS...: the script's output as it comes; its last line is
# `LABEL: N passed, M failed`.
run() {
  local label="$1" script="$2"; shift 2
  node "$ROOT/tests/browser/$script" "$@" 2>&1 | tee "$out" || status=1
  local counts
  counts="$(tail -n 1 "$out" | sed -n "s/^$label: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p")"
  if [ -n "$counts" ]; then
    passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
  else
    echo "$script stopped before its count"; failed=$((failed + 1)); status=1
  fi
}
run travellers traveller.mjs "$BASE_URL" "$artifacts"
run operators operator-ui.mjs "$BASE_URL" "$WEB_UI_URL" "$artifacts"
echo "browser: $passed passed, $failed failed"
exit "$status"
