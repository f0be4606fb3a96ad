"""Schemathesis hooks of scripts/api-contract.sh: the tested identities may change only what
their own run made.

The contract test runs against a stack other tests share (the demo users, the demo catalog
the smoke and browser tests book, the identities of this run). An admin's run may find the
demo admin's id in a list and revoke its role, an operator's may withdraw the demo hotel
from sale, a schema example may stop-sell its nights. So every request that changes
something (POST, PUT, PATCH, DELETE) may name only

  - a record some request of this run created (a registered user, an onboarded partner, a
    new accommodation, destination, experience or package: the `user_id` or `code` of the
    2xx answer), of that kind (a new accommodation does not make a demo experience of the
    same code fair game),
  - or one the script allows in CONTRACT_ALLOW, comma-separated `kind:key` items (the
    identity's own user id, `users:<uuid>`, so that the API's refusal to disable or delete
    oneself is tested, and `accommodations:<code>`, the stay made for the asset manager).

Any other user id, catalog code or partner code a write names, in its path or as the
`accommodation` of an allotment change, is replaced by a fresh one of the same shape that
names nothing (the API answers 404 as for any unknown record). Values that do not have the
shape of a key are left alone: they are the negative tests. Sign-ins with one of the
CONTRACT_PROTECTED_EMAILS (the demo users, this run's identities) get a fresh address
instead, so that failed attempts never throttle the accounts the script signs in with.

Each replacement is appended to CONTRACT_REWRITE_LOG, when set, as one line
`METHOD PATH: name=old -> new`; each record the run created to CONTRACT_CREATED_LOG, as
`kind key` (the script withdraws the catalog entries among them from sale afterwards).

One more hook keeps one broken part of the document from hiding the rest: schemathesis
refuses to run the stateful phase at all when a response's link names neither
`operationId` nor `operationRef`. Such links are taken out of the document before it is
loaded (the stateful phase then follows the links it infers), and each is appended to
CONTRACT_DOCUMENT_ERRORS as one line `METHOD PATH: ...`: the script counts them with the
document's other errors, so they still fail the run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import uuid

import schemathesis

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# The operations that create a record: the kind of record, and the field of the answer
# that names it.
CREATES = {
    "/api/auth/register": ("users", "user_id"),
    "/api/catalog/accommodations": ("accommodations", "code"),
    "/api/catalog/destinations": ("destinations", "code"),
    "/api/catalog/experiences": ("experiences", "code"),
    "/api/catalog/packages": ("packages", "code"),
    "/api/partners": ("partners", "code"),
}
# Path templates of the writes that name an existing record: the parameter naming it, and
# its kind (a `kind` group of the template, else the fixed kind).
RECORD_PARAMETERS = (
    (re.compile(r"^/api/auth/users/\{user_id\}"), "user_id", "users"),
    (re.compile(r"^/api/catalog/(?P<kind>accommodations|destinations|experiences|packages)/\{code\}"), "code", None),
    (re.compile(r"^/api/partners/\{partner\}"), "partner", "partners"),
)
# Writes whose JSON body names an existing record: the body field naming it, and its kind.
RECORD_FIELDS = (("/api/inventory/allotments", "accommodation", "accommodations"),)
SIGN_INS = frozenset({"/api/auth/login", "/api/codec/sign-in"})

_lock = threading.Lock()
_protected_emails = {
    v.strip().lower() for v in os.environ.get("CONTRACT_PROTECTED_EMAILS", "").split(",") if v.strip()
}
_log_path = os.environ.get("CONTRACT_REWRITE_LOG")
_document_errors_path = os.environ.get("CONTRACT_DOCUMENT_ERRORS")
_created_path = os.environ.get("CONTRACT_CREATED_LOG")


def _key(kind: str, value: object) -> str | None:
    """The record `value` may name, in its canonical form (any spelling the API may read as
    that record: a braced or upper-case UUID, a code with spaces around), else None."""
    if not isinstance(value, str):
        return None
    if kind != "users":
        code = value.strip().lower()
        return code if CODE.match(code) else None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def _keep_out(case, kind: str, name: str, value: object) -> str | None:
    """A stand-in for `value` when the write must not touch the record it names, else None."""
    key = _key(kind, value)
    if key is None:
        return None
    with _lock:
        if (kind, key) in _allowed:
            return None
    replacement = str(uuid.uuid4()) if kind == "users" else f"gone-{secrets.token_hex(4)}"
    if _log_path:
        with _lock, open(_log_path, "a", encoding="utf-8") as log:
            log.write(f"{case.method.upper()} {case.operation.path}: {name}={value} -> {replacement}\n")
    return replacement


# (kind, key) of the records this run may change: CONTRACT_ALLOW's `kind:key` items, and
# whatever the run creates.
_allowed = {
    (kind, _key(kind, key))
    for kind, _, key in (item.strip().partition(":") for item in os.environ.get("CONTRACT_ALLOW", "").split(","))
    if key
}


# Longest `?wait=` (seconds) a run's booking reads ask for: a booking left waiting for its
# checkout would hold each read for the API's full 20 s, and the runs have a time budget.
# Waiting itself is tested by the end-to-end booking tests.
MAX_WAIT_SECS = 1


@schemathesis.hook
def before_call(context, case, kwargs):
    method = case.method.upper()
    path = case.operation.path
    wait = (case.query or {}).get("wait")
    if method == "GET" and isinstance(wait, int) and not isinstance(wait, bool) and wait > MAX_WAIT_SECS:
        case.query["wait"] = MAX_WAIT_SECS
    if method not in WRITES:
        return
    for template, name, kind in RECORD_PARAMETERS:
        found = template.match(path)
        if found and case.path_parameters and name in case.path_parameters:
            kind = kind or found.group("kind")
            replacement = _keep_out(case, kind, name, case.path_parameters[name])
            if replacement is not None:
                case.path_parameters[name] = replacement
    for template, name, kind in RECORD_FIELDS:
        if path == template and isinstance(case.body, dict) and name in case.body:
            replacement = _keep_out(case, kind, name, case.body[name])
            if replacement is not None:
                case.body[name] = replacement
    if path in SIGN_INS and isinstance(case.body, dict):
        email = case.body.get("email")
        if isinstance(email, str) and email.strip().lower() in _protected_emails:
            case.body["email"] = f"contract-{secrets.token_hex(6)}@example.com"


@schemathesis.hook
def after_call(context, case, response):
    created = CREATES.get(case.operation.path)
    if created is None or case.method.upper() != "POST" or not 200 <= response.status_code < 300:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        return
    kind, field = created
    key = _key(kind, body.get(field)) if isinstance(body, dict) else None
    if key is not None:
        with _lock:
            _allowed.add((kind, key))
            if _created_path:
                with open(_created_path, "a", encoding="utf-8") as out:
                    out.write(f"{kind} {key}\n")


@schemathesis.hook
def before_load_schema(context, raw_schema):
    broken = []
    for path, item in (raw_schema.get("paths") or {}).items():
        for method, operation in (item or {}).items():
            if not isinstance(operation, dict):
                continue
            for status, response in (operation.get("responses") or {}).items():
                links = response.get("links") if isinstance(response, dict) else None
                if not isinstance(links, dict):
                    continue
                for name, link in list(links.items()):
                    if isinstance(link, dict) and ("operationId" in link or "operationRef" in link or "$ref" in link):
                        continue
                    fields = ", ".join(sorted(link)) if isinstance(link, dict) else type(link).__name__
                    broken.append(f"{method.upper()} {path}: the link `{name}` of response {status} names neither "
                                  f"operationId nor operationRef (it has: {fields})")
                    del links[name]
                if not links:
                    del response["links"]
    if broken and _document_errors_path:
        with open(_document_errors_path, "a", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in broken)


# Refusals of schema-valid requests that the document cannot prevent: rules JSON Schema
# cannot state, because they depend on today's date, on another field of the request, or on
# what the platform holds. Each is an error code (or `code:field`, for the contexts that
# answer every invalid field with one code) of a 422, or the 400 of a cursor the API did not
# give out. Every other 400 or 422 for a request the document calls valid is a finding: the
# document should have said so.
SEMANTIC_REFUSALS = frozenset({
    # Dates relative to today, or to each other.
    "check_in_in_past", "check_out_not_after_check_in", "stay_too_long", "check_in_too_far_ahead",
    "invalid_date_range", "invalid_field:expires_at", "start_in_past", "departure_in_past",
    "departure_too_far_ahead",
    # Fields that go together.
    "missing_check_in", "missing_check_out", "unexpected_card_token", "invalid_card_token",
    "override_reason_required", "invalid_child_price", "missing_refresh_token", "invalid_dates", "nothing_to_change",
    "invalid_field:experiences[].day", "invalid_field:destinations[].day",
    # An Idempotency-Key this client already used for another request.
    "idempotency_key_reused",
    # What the platform holds: codes that name nothing, more guests than the rooms sleep.
    "unknown_accommodation", "unknown_room_type", "too_many_guests", "unknown_destination",
    "unknown_experience", "unknown_amenity", "group_too_large", "no_price_for_date",
    "unquotable_stay", "duplicate_code", "seasons_overlap", "stays_overlap", "stay_outside_package",
    # A package's departures: none on that day, or without the seats; rooms that cannot
    # sleep the party at an included stay.
    "departure_not_on_sale", "not_enough_seats", "too_few_rooms", "unknown_package",
    # A package's rooms above its adults.
    "invalid_rooms",
    # A password that is the account's own e-mail address, or one character repeated.
    "invalid_field:password",
    # A cursor is a token the API gave out with an earlier page.
    "invalid_cursor",
    # Money: only rupees, a refund of at least one, never more than is left to refund; a
    # settlement's adjusted payout never below zero.
    "unsupported_currency", "amount_too_small", "exceeds_refundable", "invalid_field:adjustment.amount",
})


def _refusal(response) -> str | None:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    code = error.get("code")
    # `experiences[boat-ride].day` names an item (whose code may hold brackets too); the
    # rule is the same for every item.
    field = re.sub(r"\[.*\]", "[]", str((error.get("details") or {}).get("field")), flags=re.DOTALL)
    return f"{code}:{field}" if f"{code}:{field}" in SEMANTIC_REFUSALS else code


@schemathesis.check
def valid_requests_accepted(ctx, response, case):
    """schemathesis's positive_data_acceptance, which this replaces, but for the refusals
    listed in SEMANTIC_REFUSALS: a request the document calls valid is answered 2xx, 3xx,
    401, 403, 404, 409, 429 or 5xx (the last found by its own check)."""
    from schemathesis.openapi.checks import RejectedPositiveData
    from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

    meta = case.meta
    if meta is None or is_unexpected_http_status_case(case) or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    refusal = _refusal(response)
    if refusal in SEMANTIC_REFUSALS:
        return None
    raise RejectedPositiveData(
        operation=case.operation.label,
        message=f"Valid data should have been accepted, but got {response.status_code} `{refusal}`",
        status_code=response.status_code,
        allowed_statuses=["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"],
    )
