#!/usr/bin/env bash
# Property-based tests of the API against its own OpenAPI document, with schemathesis, on a
# running platform: every documented operation, called by identities made for the run.
#
#   scripts/api-contract.sh [BASE_URL]      (default http://127.0.0.1:8080, what `make up` serves)
#
# 1. Installs schemathesis (pinned, from PyPI) in .tools/contract-venv, once.
# 2. Makes this run's identities through the API (tests/contract/identities.py): signed in
#    as the demo admin, it registers a traveller, an asset manager (assigned a stay made
#    for the run, never left on sale), an operator and an admin, with unique e-mails, and
#    onboards a partner with an API key. The demo users are never the tested identities.
# 3. Runs schemathesis once per identity, partner first and admin last, against
#    $BASE_URL/api/openapi.json with `Authorization: Bearer <its access token or API key>`
#    (a fresh sign-in just before its run): the partner on the /api/partners/v1 operations
#    only, the others on every other operation but POST /api/auth/logout-all, which would
#    end the identity's own session mid-run. (POST /api/auth/logout is tested: it ends only
#    the session of the refresh token it is given, and no run ever sees an identity's.)
#    Phases examples, coverage, fuzzing and stateful; every check, with
#    positive_data_acceptance replaced by tests/contract/hooks.py's valid_requests_accepted:
#    the same, but for the refusals the document cannot state (a date in the past, fields
#    that go together, a code that names nothing; listed there as SEMANTIC_REFUSALS). The
#    hooks also cut booking reads' `?wait=` to 1 s, for the time budget. The operator's
#    and admin's runs skip ensure_resource_availability: what they create in the catalog is
#    a draft, hidden from the public reads by design. The hooks of
#    tests/contract/hooks.py keep the writes of each run to what the run made (no demo user,
#    demo stay, other identity or partner is changed, nobody disables or deletes another
#    identity), and keep failed sign-ins off the demo users; tests/contract/schemathesis.toml
#    holds the settings common to all runs. Each identity must still be signed in after
#    its run.
# 4. Withdraws from sale what the runs created in the catalog, disables the run's users and
#    closes its partner.
# 5. Prints what the runs found, by kind (server errors, undocumented status codes, errors
#    of the document itself, responses that violate their schema, valid requests rejected,
#    invalid requests accepted, any other check or error), then each finding by kind and
#    operation, with the status seen and an example request.
#
# For diagnosis, in target/contract/: findings.md (the list above), and per identity
# <name>/: output.txt (schemathesis's own report), command, the JUnit XML, JSON and NDJSON
# reports, kept-away.log (writes sent elsewhere than a record the run did not make) and
# document-errors.log.
#
# Environment:
#   CONTRACT_MAX_EXAMPLES     test cases per operation and phase (default 20)
#   CONTRACT_BUDGET_SECS      time for all the runs together (default 240): each run may
#                             take its share of what is left, and is stopped at its end
#   CONTRACT_WORKERS          concurrent workers per run (default 1: the runs are bound by
#                             the generator's CPU, and Python before 3.13 can fail
#                             concurrent workers with a spurious `SystemError: AST
#                             constructor recursion depth mismatch`)
#   CONTRACT_REQUEST_TIMEOUT  seconds one request may take (default 30: longer than the
#                             API's own limit, so a slow answer is seen as the API's)
#   CONTRACT_SEED             the generation seed (default a fixed one, so that `make test`
#                             tests the same cases every time; `random` for a new one,
#                             printed to replay the run)
#   CONTRACT_IDENTITIES       the identities to test, in order (default: partner traveller
#                             asset_manager operator admin)
#   CONTRACT_ADMIN_EMAIL, CONTRACT_ADMIN_PASSWORD   who makes the identities (default the
#                             demo admin of `make up`)
#
# An identity passes when its run completed with no finding, no error and its credential
# still accepted. The last line is `contract: N passed, M failed`, counting identities;
# exit status 1 when M > 0. Needs curl and python3.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ "$#" -le 1 ] || die "usage: $0 [BASE_URL]"
BASE_URL="${1:-http://127.0.0.1:8080}"
BASE_URL="${BASE_URL%/}"
SCHEMATHESIS_VERSION="4.32.5"
CONTRACT_VENV="$TOOLS/contract-venv"
CONTRACT_PINS="schemathesis==$SCHEMATHESIS_VERSION"
MAX_EXAMPLES="${CONTRACT_MAX_EXAMPLES:-20}"
BUDGET_SECS="${CONTRACT_BUDGET_SECS:-240}"
WORKERS="${CONTRACT_WORKERS:-1}"
REQUEST_TIMEOUT="${CONTRACT_REQUEST_TIMEOUT:-30}"
SEED="${CONTRACT_SEED:-20261207}"
[ "$SEED" != random ] || SEED=$(((RANDOM << 15) | RANDOM))
read -r -a identities <<<"${CONTRACT_IDENTITIES:-partner traveller asset_manager operator admin}"
OUT="$ROOT/target/contract"
command -v curl >/dev/null || die "curl is needed"
for name in "${identities[@]}"; do
  case "$name" in partner | traveller | asset_manager | operator | admin) ;; *) die "unknown identity $name" ;; esac
done

passed=0
failed=0
finished=""
on_exit() {
  # Whatever stopped the script before its verdict (no stack, a broken install) is a failure.
  [ -n "$finished" ] || echo "contract: $passed passed, $((failed + 1)) failed"
}
trap on_exit EXIT

step "Checking schemathesis ($CONTRACT_PINS in .tools/contract-venv)"
if [ "$(cat "$CONTRACT_VENV/.pins" 2>/dev/null || true)" != "$CONTRACT_PINS" ] \
  || [ ! -x "$CONTRACT_VENV/bin/schemathesis" ]; then
  command -v python3 >/dev/null || apt_install python3 python3-venv
  if [ ! -x "$CONTRACT_VENV/bin/pip" ]; then
    python3 -m venv "$CONTRACT_VENV" 2>/dev/null || { rm -rf "$CONTRACT_VENV"; apt_install python3-venv; python3 -m venv "$CONTRACT_VENV"; }
  fi
  note "installing into .tools/contract-venv (first run only)"
  "$CONTRACT_VENV/bin/pip" install --quiet --disable-pip-version-check "$CONTRACT_PINS"
  printf '%s' "$CONTRACT_PINS" >"$CONTRACT_VENV/.pins"
fi
PY="$CONTRACT_VENV/bin/python"
note "$("$CONTRACT_VENV/bin/schemathesis" --version), on $("$PY" --version)"

step "Checking $BASE_URL"
curl -fsS -o /dev/null --max-time 10 "$BASE_URL/readyz" || die "$BASE_URL/readyz does not answer: is the platform up (make up)?"
curl -fsS -o /dev/null --max-time 10 "$BASE_URL/api/openapi.json" || die "$BASE_URL/api/openapi.json does not answer"
note "ready; testing against $BASE_URL/api/openapi.json"

rm -rf "$OUT"
mkdir -p "$OUT"
state="$OUT/identities.json"
step "Making this run's identities (as ${CONTRACT_ADMIN_EMAIL:-admin@demo.tripura.travel})"
"$PY" tests/contract/identities.py create "$BASE_URL" "$state" || die "could not make the identities"
field() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$state" "$1"; }
user_id() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["users"][sys.argv[2]]["user_id"])' "$state" "$1"; }
accommodation="$(field accommodation)"
protected_emails="$("$PY" -c 'import json, sys; print(",".join(json.load(open(sys.argv[1]))["protected_emails"]))' "$state")"
# The run's stay, for tests/contract/schemathesis.toml's dictionaries (libFuzzer format).
printf '"%s"\n' "$accommodation" >"$OUT/own-stay.dict"
printf '"%s"\n' "$(field room_type)" >"$OUT/own-room-type.dict"

# shell_words WORD...: the words as a shell reads them back, quoted only where needed.
shell_words() {
  local word out=()
  for word in "$@"; do
    if [[ "$word" =~ ^[][A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$word"); else out+=("'${word//\'/\'\\\'\'}'"); fi
  done
  printf '%s\n' "${out[*]}"
}

# signed_in NAME CREDENTIAL: the HTTP status of a request that only a valid credential of
# NAME gets a 200 for (its profile; for the partner, its bookings).
signed_in() {
  local path=/api/auth/me
  [ "$1" != partner ] || path=/api/partners/v1/bookings
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $2" "$BASE_URL$path" 2>/dev/null || true
}

# run_identity NAME SECONDS: one schemathesis run as NAME, stopped after SECONDS (with
# SIGINT, as by Ctrl-C: the reports are still written). Reports in $OUT/NAME, and what
# went wrong around the run in $OUT/NAME/problems.
run_identity() {
  local name="$1" limit="$2" dir="$OUT/$1" token allow="" status=0 answer
  local -a scope
  # tests/contract/hooks.py's valid_requests_accepted stands in for positive_data_acceptance.
  local skipped=positive_data_acceptance
  mkdir -p "$dir"
  if ! token="$("$PY" tests/contract/identities.py token "$BASE_URL" "$state" "$name")"; then
    echo "could not sign in as the $name" >>"$dir/problems"
    return
  fi
  answer="$(signed_in "$name" "$token")"
  [ "$answer" = 200 ] || echo "the $name's credential is refused before the run (HTTP $answer)" >>"$dir/problems"
  if [ "$name" = partner ]; then
    scope=(--include-path-regex '^/api/partners/v1/')
  else
    scope=(--exclude-path-regex '^/api/partners/v1/' --exclude-path /api/auth/logout-all)
    allow="users:$(user_id "$name"),accommodations:$accommodation"
  fi
  case "$name" in
    # What operators and admins create in the catalog is a draft, hidden from the public
    # reads until published: "a created resource is found at its read" does not hold for
    # their runs by design. (Bookings, whose reads it does hold, are the traveller's and
    # the partner's to create; their runs keep the check.)
    operator | admin) skipped="$skipped,ensure_resource_availability" ;;
  esac
  local -a command=(
    .tools/contract-venv/bin/schemathesis --config-file tests/contract/schemathesis.toml --no-color
    run "$BASE_URL/api/openapi.json" --url "$BASE_URL" "${scope[@]}"
    --phases "examples,coverage,fuzzing,stateful" --checks all --exclude-checks "$skipped"
    --max-examples "$MAX_EXAMPLES" --workers "$WORKERS" --request-timeout "$REQUEST_TIMEOUT" --seed "$SEED"
    --report "junit,json,ndjson" --report-dir "target/contract/$name"
  )
  # The command as it runs, but for the credential.
  shell_words "${command[@]}" --header "Authorization: Bearer <the $name's credential>" >"$dir/command"
  note "$(cat "$dir/command")"
  SCHEMATHESIS_HOOKS="$ROOT/tests/contract/hooks.py" CONTRACT_ALLOW="$allow" \
    CONTRACT_PROTECTED_EMAILS="$protected_emails" CONTRACT_REWRITE_LOG="$dir/kept-away.log" \
    CONTRACT_DOCUMENT_ERRORS="$dir/document-errors.log" CONTRACT_CREATED_LOG="$dir/created.log" \
    timeout --signal=INT --kill-after=20 "$limit" "${command[@]}" --header "Authorization: Bearer $token" \
    >"$dir/output.txt" 2>&1 || status=$?
  case "$status" in
    0 | 1) ;; # 1: it found something, which the summary reads from the reports
    124) echo "stopped at its time limit (${limit}s) before the end" >>"$dir/problems" ;;
    *) echo "schemathesis exited with status $status (see target/contract/$name/output.txt)" >>"$dir/problems" ;;
  esac
  # A run must not end or disable the identity it tests: its later requests would test nothing.
  answer="$(signed_in "$name" "$token")"
  [ "$answer" = 200 ] || echo "the $name's credential is refused after the run (HTTP $answer): something ended its session" >>"$dir/problems"
  note "$(grep -A1 '^Test cases:' "$dir/output.txt" | tail -n 1 | sed 's/^ *//')"
  note "$(tail -n 1 "$dir/output.txt" | tr -d '=' | sed 's/^ *//; s/ *$//')"
  note "$(cat "$dir/kept-away.log" 2>/dev/null | wc -l) writes kept away from records the run did not make"
}

started=$SECONDS
deadline=$((SECONDS + BUDGET_SECS))
for i in "${!identities[@]}"; do
  name="${identities[$i]}"
  # What is left of the budget, shared among the runs still to come.
  limit=$(((deadline - SECONDS) / (${#identities[@]} - i)))
  [ "$limit" -ge 30 ] || limit=30
  step "Testing as the $name (seed $SEED, at most ${limit}s)"
  run_identity "$name" "$limit"
done
runs_secs=$((SECONDS - started))

step "Tidying up what the runs made"
"$PY" tests/contract/identities.py tidy "$BASE_URL" "$state" "$OUT"/*/created.log ||
  note "could not tidy up (see above); the catalog entries of the run may still be on sale"

step "What the runs found (every count must be 0)"
"$PY" tests/contract/summarize.py "$OUT" "${identities[@]}" || true
verdict="$(tail -n 1 "$OUT/findings.md" 2>/dev/null | sed -n 's/^contract: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')"
[ -n "$verdict" ] || die "tests/contract/summarize.py could not read the runs' reports"
read -r passed failed <<<"$verdict"
note "the runs took ${runs_secs}s; findings in target/contract/findings.md, reports in target/contract/<identity>/"
finished=1
echo "contract: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
