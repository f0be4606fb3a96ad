"""The identities of one contract-test run (scripts/api-contract.sh), made through the API.

  identities.py create BASE_URL STATE_FILE
      Signs in as the demo admin and makes, for this run only (unique e-mails and codes):
        - an accommodation with one room type for the asset manager to manage, published only
          while it is assigned (only a published stay can be), so that no traveller sees it
        - a traveller, an asset manager, an operator and an admin: each registers (and is a
          traveller), then gets its role from the demo admin and loses the traveller role,
          as the demo users hold one role each; the asset manager is assigned the
          accommodation above
        - a partner, with an API key
      and writes them as JSON to STATE_FILE (passwords and the key included: keep it out of
      the repository; the script writes it under target/contract/).

  identities.py tidy BASE_URL STATE_FILE [CREATED_LOG...]
      Afterwards, as the demo admin: withdraws from sale the run's stay and every catalog
      entry the runs created (CREATED_LOG lines `kind code`, written by hooks.py), which
      a run may have published, so that no traveller and no other test sees them; then
      disables the run's users and closes its partner. Prints what it did; a refusal is
      printed, not fatal.

  identities.py token BASE_URL STATE_FILE NAME
      Prints NAME's credential for `Authorization: Bearer`: a fresh access token from
      POST /api/auth/login (traveller, asset_manager, operator, admin), or the API key
      (partner).

Environment: CONTRACT_ADMIN_EMAIL and CONTRACT_ADMIN_PASSWORD, the demo admin of `make up`
by default. Standard library only. Answers 429 and 503 (sign-ins are limited per client
address) are retried after their Retry-After, for at most CONTRACT_RETRY_SECS (default 120)
in all.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROLES = ("traveller", "asset_manager", "operator", "admin")
ADMIN_EMAIL = os.environ.get("CONTRACT_ADMIN_EMAIL", "admin@demo.tripura.travel")
ADMIN_PASSWORD = os.environ.get("CONTRACT_ADMIN_PASSWORD", "Tripura-demo-2026")
# The demo users of `make up`, which the smoke and browser tests sign in as: the fuzzer's
# failed sign-ins must not throttle them (see hooks.py).
DEMO_EMAILS = ("admin@demo.tripura.travel", "manager@demo.tripura.travel", "operator@demo.tripura.travel",
               "traveller@demo.tripura.travel")
RETRY_DEADLINE = time.monotonic() + float(os.environ.get("CONTRACT_RETRY_SECS", "120"))


class ApiError(Exception):
    pass


def call(base: str, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, object]:
    """One request; JSON in and out. Retries 429 and 503 after their Retry-After."""
    data = None if body is None else json.dumps(body).encode()
    while True:
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as e:
            status, raw, headers = e.code, e.read(), e.headers
        if status in (429, 503) and time.monotonic() < RETRY_DEADLINE:
            wait = min(float(headers.get("Retry-After") or 2), max(0.0, RETRY_DEADLINE - time.monotonic()))
            print(f"    {method} {path}: HTTP {status}, retrying in {wait:.0f}s", file=sys.stderr)
            time.sleep(max(wait, 0.5))
            continue
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")


def expect(base: str, method: str, path: str, statuses: tuple[int, ...], body: object = None, token: str | None = None):
    status, answer = call(base, method, path, body, token)
    if status not in statuses:
        raise ApiError(f"{method} {path}: HTTP {status} {json.dumps(answer)[:600]}")
    return answer


def login(base: str, email: str, password: str) -> dict:
    return expect(base, "POST", "/api/auth/login", (200,), {"email": email, "password": password})


def create(base: str, state_file: str) -> None:
    run = f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    admin = login(base, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    print(f"    signed in as the demo admin {ADMIN_EMAIL}")
    roles = {r["code"] for r in expect(base, "GET", "/api/auth/roles", (200,), token=admin)}
    missing = [r for r in ROLES if r not in roles]
    if missing:
        raise ApiError(f"GET /api/auth/roles does not list {', '.join(missing)} (it lists {', '.join(sorted(roles))})")

    destinations = expect(base, "GET", "/api/catalog/destinations?limit=1", (200,))["items"]
    if not destinations:
        raise ApiError("GET /api/catalog/destinations lists no destination to put the run's accommodation in")
    accommodation = f"contract-stay-{run}"
    expect(base, "POST", "/api/catalog/accommodations", (201,), {
        "code": accommodation, "destination": destinations[0]["code"], "kind": "homestay",
        "name": f"Contract test stay {run}", "summary": "Made by scripts/api-contract.sh for its asset manager; not for sale.",
    }, admin)
    expect(base, "PUT", f"/api/catalog/accommodations/{accommodation}/room-types/standard", (200,), {
        "name": "Standard", "max_occupancy": 2, "base_tariff": {"amount": 250000, "currency": "INR"},
    }, admin)
    print(f"    accommodation {accommodation} (room type standard, unpublished)")

    users = {}
    for role in ROLES:
        email = f"contract-{run}-{role.replace('_', '-')}@example.com"
        password = secrets.token_urlsafe(18)
        registered = expect(base, "POST", "/api/auth/register", (201,), {
            "email": email, "password": password, "full_name": f"Contract {role.replace('_', ' ').title()}",
        })
        user_id = registered["user_id"]
        if role != "traveller":
            expect(base, "PUT", f"/api/auth/users/{user_id}/roles/{role}", (200,), token=admin)
            expect(base, "DELETE", f"/api/auth/users/{user_id}/roles/traveller", (200,), token=admin)
        if role == "asset_manager":
            # Only a published stay can be assigned: published for as long as that takes.
            stay = f"/api/catalog/accommodations/{accommodation}"
            expect(base, "PATCH", stay, (200,), {"published": True}, admin)
            expect(base, "PUT", f"/api/auth/users/{user_id}/assignments/{accommodation}", (204,), token=admin)
            expect(base, "PATCH", stay, (200,), {"published": False}, admin)
        users[role] = {"email": email, "password": password, "user_id": user_id}
        print(f"    {role:<13} {email} ({user_id})")

    partner = f"contract-{run}"
    expect(base, "POST", "/api/partners", (201,), {
        "code": partner, "name": f"Contract test partner {run}", "contact_email": f"contract-{run}@example.com",
        "commission_bp": 1000, "rate_limit_per_minute": 100000,
    }, admin)
    key = expect(base, "POST", f"/api/partners/{partner}/keys", (201,), {"label": "scripts/api-contract.sh"}, admin)
    print(f"    partner       {partner} (key {key['key_prefix']})")

    state = {"run": run, "accommodation": accommodation, "room_type": "standard", "users": users,
             "partner": {"code": partner, "key": key["key"], "key_prefix": key["key_prefix"]},
             "protected_emails": sorted({ADMIN_EMAIL, *DEMO_EMAILS, *(u["email"] for u in users.values())})}
    with open(os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        json.dump(state, out, indent=2)


CATALOG_KINDS = ("accommodations", "destinations", "experiences", "packages")


def tidy(base: str, state_file: str, created_logs: list[str]) -> None:
    with open(state_file, encoding="utf-8") as f:
        state = json.load(f)
    entries = [("accommodations", state["accommodation"])]
    for path in created_logs:
        try:
            with open(path, encoding="utf-8") as f:
                entries += [tuple(line.split(" ", 1)) for line in f.read().splitlines() if " " in line]
        except FileNotFoundError:
            continue
    admin = login(base, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    withdrawn, refused = 0, []
    for kind, code in dict.fromkeys(entries):
        if kind not in CATALOG_KINDS:
            continue
        path = f"/api/catalog/{kind}/{urllib.parse.quote(code, safe='')}"
        status, answer = call(base, "PATCH", path, {"published": False}, admin)
        if status == 200:
            withdrawn += 1
        else:
            refused.append(f"PATCH {path}: HTTP {status} {json.dumps(answer)[:200]}")
    print(f"    {withdrawn} catalog entries of the run withdrawn from sale (or left unpublished)")
    for user in state["users"].values():
        status, answer = call(base, "PATCH", f"/api/auth/users/{user['user_id']}", {"status": "disabled"}, admin)
        if status != 200:
            refused.append(f"disabling {user['email']}: HTTP {status} {json.dumps(answer)[:200]}")
    status, answer = call(base, "PATCH", f"/api/partners/{state['partner']['code']}", {"status": "closed"}, admin)
    if status != 200:
        refused.append(f"closing the partner {state['partner']['code']}: HTTP {status} {json.dumps(answer)[:200]}")
    print(f"    the run's {len(state['users'])} users disabled and its partner closed"
          + (f", but for {len(refused)} refusals:" if refused else ""))
    for line in refused:
        print(f"      {line}")


def token(base: str, state_file: str, name: str) -> None:
    with open(state_file, encoding="utf-8") as f:
        state = json.load(f)
    if name == "partner":
        print(state["partner"]["key"])
        return
    user = state["users"][name]
    print(login(base, user["email"], user["password"])["access_token"])


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 4 and argv[1] == "create":
            create(argv[2].rstrip("/"), argv[3])
        elif len(argv) >= 4 and argv[1] == "tidy":
            tidy(argv[2].rstrip("/"), argv[3], argv[4:])
        elif len(argv) == 5 and argv[1] == "token":
            token(argv[2].rstrip("/"), argv[3], argv[4])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (ApiError, OSError, KeyError, ValueError) as e:
        print(f"identities: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
