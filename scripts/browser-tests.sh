#!/usr/bin/env bash
# The travellers' web pages in Chromium against a running platform (tests/browser):
# search, sign-up, booking, paying on the gateway's page, a declined card, a reload and a
# double click mid-saga, cancelling; axe-core on every page; screenshots at phone and
# desktop widths in target/browser-artifacts.
#
#   scripts/browser-tests.sh [BASE_URL]      (default http://127.0.0.1:8080, what `make up` serves)
#
# The last line is `browser: N passed, M failed`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
BASE_URL="${1:-http://127.0.0.1:8080}"
"$ROOT/scripts/bootstrap.sh" --browser >/dev/null
artifacts="$ROOT/target/browser-artifacts"
rm -rf "$artifacts"
note "screenshots in ${artifacts#"$ROOT"/}"
exec node "$ROOT/tests/browser/traveller.mjs" "$BASE_URL" "$artifacts"
