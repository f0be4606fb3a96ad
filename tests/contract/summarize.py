"""What the schemathesis runs of scripts/api-contract.sh found, counted by kind and listed.

  summarize.py OUT_DIR IDENTITY...

Reads, for each identity, OUT_DIR/IDENTITY/: the JSON run report (json-*.json), the event
stream (ndjson-*.ndjson), document-errors.log (links taken out of the document by
hooks.py) and problems (what went wrong around the run itself: no sign-in, a credential
that stopped working during the run, a run stopped at its time limit).

A finding is one check failing on one operation with one status code, or one error of the
document on one operation, however many identities and test cases hit it. They are counted
by kind, then listed by kind and operation with the status seen and the shortest request
that caused it. An identity passes when its run completed with no finding, no error and no
problem. Prints everything to stdout, and writes it to OUT_DIR/findings.md followed by the
line `contract: N passed, M failed` (identities). Exit status 1 when M > 0.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import sys
from urllib.parse import urlsplit

KINDS = (
    ("not_a_server_error", "server errors (5xx)"),
    ("status_code_conformance", "undocumented status codes"),
    ("document", "errors of the document itself"),
    ("response_schema_conformance", "responses that violate their schema"),
    ("positive_data_acceptance", "valid requests rejected"),
    # tests/contract/hooks.py's stand-in for positive_data_acceptance (see SEMANTIC_REFUSALS).
    ("valid_requests_accepted", "valid requests rejected, but for the semantic refusals"),
    ("negative_data_rejection", "invalid requests accepted"),
)
# Errors schemathesis reports for the document rather than for the API's behaviour.
DOCUMENT_ERRORS = {
    "InvalidSchema", "InvalidRegexPattern", "UnsupportedRegexPattern", "InvalidStateMachine",
    "UnresolvableReference", "NoLinksFound",
}


def decode(payload) -> str:
    if payload is None:
        return ""
    if isinstance(payload, dict) and "$base64" in payload:
        raw = base64.b64decode(payload["$base64"])
    elif isinstance(payload, str):
        raw = payload.encode()
    else:
        raw = json.dumps(payload).encode()
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=True, separators=(",", ":"))
    except ValueError:
        return text


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line_request(request: dict) -> str:
    uri = urlsplit(request.get("uri", ""))
    target = uri.path + (f"?{uri.query}" if uri.query else "")
    body = decode(request.get("body"))
    return clip(f"{request.get('method', '?')} {target}" + (f" {body}" if body else ""), 240)


def one_line_response(response: dict | None) -> str:
    if not response:
        return "no response"
    body = decode(response.get("content"))
    try:
        error = json.loads(body).get("error") or {}
        detail = f"{error.get('code')}: {error.get('message')}" if error else body
    except (ValueError, AttributeError):
        detail = body
    return clip(detail, 160)


class Findings:
    def __init__(self) -> None:
        # (kind, operation, status or message) -> {"identities", "cases", "example", "response", "detail"}
        self.items: dict[tuple[str, str, str], dict] = {}
        self.by_identity: dict[str, set[tuple[str, str, str]]] = {}

    def add(self, identity: str, key: tuple[str, str, str], example: str, response: str, detail: str) -> None:
        item = self.items.setdefault(key, {"identities": [], "cases": 0, "example": example,
                                           "response": response, "detail": detail})
        item["cases"] += 1
        if identity not in item["identities"]:
            item["identities"].append(identity)
        if example and (not item["example"] or len(example) < len(item["example"])):
            item["example"], item["response"], item["detail"] = example, response, detail
        self.by_identity.setdefault(identity, set()).add(key)


def read_identity(directory: str, identity: str, findings: Findings, problems: list[str]) -> dict:
    info: dict = {"tested": None, "cases": None, "phases": {}, "seconds": None, "refused": None}
    for path in sorted(glob.glob(os.path.join(directory, "problems"))):
        with open(path, encoding="utf-8") as f:
            problems.extend(line.strip() for line in f if line.strip())
    reports = sorted(glob.glob(os.path.join(directory, "json-*.json")))
    if not reports:
        problems.append("no run report: schemathesis did not finish (see output.txt)")
        return info
    with open(reports[-1], encoding="utf-8") as f:
        report = json.load(f)
    operations = report.get("operations") or {}
    info.update(tested=f"{operations.get('tested')}/{operations.get('selected')}",
                cases=(report.get("test_cases") or {}).get("generated"),
                phases={name: phase["status"] for name, phase in (report.get("phases") or {}).items()},
                seconds=report.get("running_time"),
                refused=len((report.get("warnings") or {}).get("missing_auth") or []))
    if not report.get("complete"):
        problems.append(f"the run did not complete (stopped: {report.get('stop_reason')})")

    # The operations the run selected: the document's errors elsewhere are not this run's.
    selected: set[str] = set()
    for path in sorted(glob.glob(os.path.join(directory, "ndjson-*.ndjson"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                event = json.loads(line)
                if "NonFatalError" in event:
                    error = event["NonFatalError"]
                    selected.add(error.get("label") or "")
                    value = error.get("value") or {}
                    message = (value.get("message") or "").strip()
                    if value.get("type") in DOCUMENT_ERRORS:
                        kind = "document"
                    else:
                        kind = f"error: {value.get('type')}"
                    first = clip(message.split("\n\n")[0] if "Unresolvable" not in message else message, 200)
                    findings.add(identity, (kind, error.get("label") or "the run", first), "", "", first)
                elif "ScenarioFinished" in event:
                    selected.add(event["ScenarioFinished"]["recorder"].get("label", ""))
                    read_scenario(event["ScenarioFinished"]["recorder"], identity, findings)
    for path in sorted(glob.glob(os.path.join(directory, "document-errors.log"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                operation, _, message = line.strip().partition(": ")
                if message and operation in selected:
                    findings.add(identity, ("document", operation, clip(message, 200)), "", "", message)
    return info


def read_scenario(recorder: dict, identity: str, findings: Findings) -> None:
    interactions = recorder.get("interactions") or {}
    cases = recorder.get("cases") or {}
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks:
            if check.get("status") != "failure":
                continue
            failure = (check.get("failure_info") or {}).get("failure") or {}
            interaction = interactions.get(case_id) or {}
            response = interaction.get("response")
            status = str(response.get("status_code")) if response else "no response"
            operation = failure.get("operation") or recorder.get("label") or "?"
            if not operation.split(" ", 1)[0].isupper():
                case = (cases.get(case_id) or {}).get("value") or {}
                operation = f"{case.get('method', '?')} {case.get('path', operation)}"
            message = (failure.get("message") or "").strip()
            detail = f"{failure.get('code', '')} {failure.get('title', '')}: {clip(message, 300)}".strip()
            request = one_line_request(interaction["request"]) if interaction.get("request") else ""
            findings.add(identity, (check.get("name", "?"), operation, status), request,
                         one_line_response(response), detail)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, identities = argv[1], argv[2:]
    findings = Findings()
    lines: list[str] = []
    verdicts: dict[str, list[str]] = {}
    infos: dict[str, dict] = {}
    for identity in identities:
        problems: list[str] = []
        infos[identity] = read_identity(os.path.join(out, identity), identity, findings, problems)
        verdicts[identity] = problems

    counts = {kind: 0 for kind, _ in KINDS}
    others: dict[str, int] = {}
    for kind, _, _ in findings.items:
        if kind in counts:
            counts[kind] += 1
        else:
            others[kind] = others.get(kind, 0) + 1

    lines.append("Findings by kind (one check on one operation with one status; one document error on one operation):")
    for kind, title in KINDS:
        label = f"{title} ({kind})" if kind != "document" else title
        lines.append(f"  {label:<72} {counts[kind]:>4}")
    for kind in sorted(others):
        label = f"other: {kind}"
        lines.append(f"  {label:<72} {others[kind]:>4}")
    if not others:
        lines.append(f"  {'any other check or error':<72} {0:>4}")

    lines.append("")
    lines.append("Identities:")
    passed = failed = 0
    for identity in identities:
        info, problems = infos[identity], verdicts[identity]
        own = findings.by_identity.get(identity, set())
        ok = not problems and not own
        passed, failed = passed + ok, failed + (not ok)
        phases = ", ".join(f"{name} {status}" for name, status in info["phases"].items()) or "no phase ran"
        seconds = f"{info['seconds']:.0f}s" if info["seconds"] is not None else "?"
        lines.append(f"  {'ok  ' if ok else 'FAIL'} {identity:<13} {len(own)} findings; operations tested "
                     f"{info['tested']} ({info['refused']} answered only 401/403), {info['cases']} test cases "
                     f"in {seconds}; {phases}")
        for problem in problems:
            lines.append(f"       problem: {problem}")

    if findings.items:
        lines.append("")
        lines.append("Findings, by kind and operation (status: identities, test cases; example request => answer):")
        order = [kind for kind, _ in KINDS] + sorted(others)
        for kind in order:
            keys = sorted(key for key in findings.items if key[0] == kind)
            if not keys:
                continue
            title = dict(KINDS).get(kind, kind)
            lines.append(f"  {title} [{kind}]: {len(keys)}")
            for key in keys:
                item = findings.items[key]
                who = ",".join(item["identities"])
                if kind == "document" or kind.startswith("error: "):
                    lines.append(f"    {key[1]} — {key[2]} ({who})")
                    continue
                lines.append(f"    {key[1]} — {key[2]} ({who}; {item['cases']} cases)")
                lines.append(f"        {item['example'] or '(no request recorded)'}")
                lines.append(f"        => {item['response']}")
                if kind not in ("status_code_conformance", "positive_data_acceptance", "valid_requests_accepted", "not_a_server_error"):
                    lines.append(f"        {clip(item['detail'], 300)}")

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    # The closing line only in the file: the script prints it as its own last line.
    with open(os.path.join(out, "findings.md"), "w", encoding="utf-8") as f:
        f.write(text + f"\ncontract: {passed} passed, {failed} failed\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
