#!/usr/bin/env python3
"""The drift checker can fail: each mutation of a rendered overlay that breaks one of its
rules must make check_drift.py fail with the message of that rule.

Usage: test_check_drift.py --root REPO RENDERED.yaml   (a render that passes as it is)
Run by scripts/check-deploy.sh; exit status 0 when every mutation is caught.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def main_container(docs: list[dict], name: str) -> dict:
    return find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def env_var(container: dict, name: str) -> dict:
    return next(v for v in container["env"] if v["name"] == name)


def unmount_webhook_secret(docs):
    env_var(main_container(docs, "api-payment"), "TT_GATEWAY_WEBHOOK_SECRET_FILE")["value"] = "/etc/elsewhere/secret"


def read_a_key_the_template_lacks(docs):
    volumes = find(docs, "Deployment", "api-payment")["spec"]["template"]["spec"]["volumes"]
    gateway = next(v for v in volumes if v["name"] == "payment-gateway")
    gateway["secret"]["items"] = [{"key": "TT_WEBHOOK_TYPO", "path": "TT_GATEWAY_WEBHOOK_SECRET"}]


def drop_the_digest(docs):
    for d in docs:
        spec = d.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            c["image"] = c["image"].split("@")[0]


def serve_the_wrong_context(docs):
    c = main_container(docs, "api-catalog")
    c["envFrom"] = [s for s in c["envFrom"] if not s.get("configMapRef", {}).get("name", "").startswith("api-context")]
    c["env"].append({"name": "TT_API_SERVICES", "value": "auth"})


def send_partner_bookings_unsealed(docs):
    c = main_container(docs, "api-partner")
    c["env"] = [v for v in c["env"] if v["name"] != "TT_PAYLOAD_KEYS_FILE"]


def give_a_worker_another_context(docs):
    spec = find(docs, "Deployment", "worker-booking")["spec"]["template"]["spec"]
    spec["volumes"].append({"name": "database-payment", "secret": {"secretName": "tt-database-payment"}})


def lose_a_worker(docs):
    docs.remove(find(docs, "Deployment", "worker-inventory"))


def leave_the_namespace(docs):
    find(docs, "Service", "api-booking")["metadata"]["namespace"] = "default"


def serve_the_api_on_the_web_ui_host(docs):
    paths = find(docs, "Ingress", "temporal-web-codec")["spec"]["rules"][0]["http"]["paths"]
    paths.append(dict(copy.deepcopy(paths[0]), path="/api/bookings"))


MUTATIONS = {
    unmount_webhook_secret: "in no mounted Secret",
    read_a_key_the_template_lacks: "which the template lacks",
    drop_the_digest: "is not pinned by digest",
    serve_the_wrong_context: "serves TT_API_SERVICES='auth'",
    send_partner_bookings_unsealed: "Deployment api-partner talks to Temporal but does not mount the payload keys",
    give_a_worker_another_context: "Deployment worker-booking mounts the database Secrets of ['booking', 'payment']",
    lose_a_worker: "no Deployment worker-inventory",
    leave_the_namespace: "Service/api-booking: namespace is 'default'",
    serve_the_api_on_the_web_ui_host: "Ingress temporal-web-codec routes",
}


def run(root: Path, docs: list[dict]) -> tuple[int, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump_all(docs, f)
        f.flush()
        done = subprocess.run([sys.executable, str(Path(__file__).with_name("check_drift.py")), "--root", str(root),
                               "--overlay", "mutated", f.name], capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("rendered", type=Path)
    args = parser.parse_args()
    docs = [d for d in yaml.safe_load_all(args.rendered.read_text()) if d]
    status, output = run(args.root, docs)
    if status != 0:
        print(f"the unmutated render fails already:\n{output}", file=sys.stderr)
        return 1
    missed = []
    for mutate, expected in MUTATIONS.items():
        mutated = copy.deepcopy(docs)
        mutate(mutated)
        status, output = run(args.root, mutated)
        if status == 0 or expected not in output:
            missed.append(f"{mutate.__name__}: expected a failure with {expected!r}, got status {status}:\n{output}")
    for problem in missed:
        print(problem, file=sys.stderr)
    print(f"drift self-test: {len(MUTATIONS) - len(missed)} of {len(MUTATIONS)} broken renders caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
