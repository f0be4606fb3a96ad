#!/usr/bin/env bash
# `make kind-up`: the whole platform in a local kind cluster, as it runs in production
# (the manifests of k8s/overlays/kind), then the booking flow through the Ingress.
#
#   1. checks the manifests (scripts/check-deploy.sh; installs the pinned kubectl)
#   2. starts a local image registry (localhost:5001) and the kind cluster
#      (k8s/kind/kind-cluster.yaml), or reuses both
#   3. builds the Dockerfile's three images (platform, Temporal, PostgreSQL) and pushes
#      them, so the cluster pulls them by digest
#   4. installs the Ingress controller (k8s/kind/ingress-nginx.yaml)
#   5. creates the Secrets once, with fresh random values (kept on re-runs)
#   6. applies k8s/overlays/kind with the images' digests, waits for every rollout
#   7. runs scripts/smoke-booking.sh against http://localhost:8088
#
# Needs Docker and kind on PATH (it says so and stops where either is missing). Run it
# again after a change: it rebuilds, pushes and rolls out. `make kind-down` deletes the
# cluster and the registry.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CLUSTER=tripura-tourism
REGISTRY_NAME=tripura-tourism-registry
REGISTRY_PORT=5001
REGISTRY_IMAGE="registry:2.8.3"
NAMESPACE=tripura-tourism
INGRESS_URL="http://localhost:8088"
KUBECTL="$TOOLS/deploy-venv/bin/kubectl"
TAG="$(sed -n 's/^ *newTag: \([^@]*\)@.*/\1/p' k8s/components/release-image/kustomization.yaml | head -n 1)"

if [ "${1:-}" = "--down" ]; then
  if command -v kind >/dev/null; then kind delete cluster --name "$CLUSTER"; fi
  if command -v docker >/dev/null; then docker rm -f "$REGISTRY_NAME" >/dev/null 2>&1 || true; fi
  exit 0
fi

command -v docker >/dev/null || die "make kind-up needs Docker (https://docs.docker.com/engine/install/), which is not installed here"
docker info >/dev/null 2>&1 || die "make kind-up needs a running Docker engine: \`docker info\` fails (is the daemon started, may this user use it?)"
command -v kind >/dev/null || die "make kind-up needs kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), which is not installed here"

step "Checking the manifests"
"$ROOT/scripts/check-deploy.sh" >/dev/null || die "scripts/check-deploy.sh fails: fix the manifests first (run it to see why)"
k() { "$KUBECTL" --context "kind-$CLUSTER" "$@"; }

step "Starting the local registry (localhost:$REGISTRY_PORT) and the kind cluster"
if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null || true)" != "true" ]; then
  docker rm -f "$REGISTRY_NAME" >/dev/null 2>&1 || true
  docker run -d --restart=always -p "127.0.0.1:$REGISTRY_PORT:5000" --network bridge --name "$REGISTRY_NAME" "$REGISTRY_IMAGE" >/dev/null
fi
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --config k8s/kind/kind-cluster.yaml --wait 120s
fi
# The nodes pull localhost:5001/* from the registry container (kind's local-registry recipe).
for node in $(kind get nodes --name "$CLUSTER"); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:$REGISTRY_PORT"
  printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" \
    | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:$REGISTRY_PORT/hosts.toml"
done
docker network connect kind "$REGISTRY_NAME" 2>/dev/null || true

step "Building and pushing the images (tag $TAG)"
declare -A digests
for target in runtime temporal postgres; do
  case "$target" in
    runtime) name=tripura-tourism ;;
    *) name="tripura-tourism-$target" ;;
  esac
  ref="localhost:$REGISTRY_PORT/$name:$TAG"
  DOCKER_BUILDKIT=1 docker build --target "$target" -t "$ref" .
  docker push "$ref" >/dev/null
  digests[$name]="$(docker inspect --format '{{index .RepoDigests 0}}' "$ref" | sed 's/.*@//')"
  note "$name@${digests[$name]}"
done

step "Installing the Ingress controller"
k apply -f k8s/kind/ingress-nginx.yaml >/dev/null
k -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s

step "Creating the Secrets (once; kept on re-runs)"
k apply -f k8s/base/namespace.yaml >/dev/null
random() { head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 32; }
secret() { # name, kubectl create secret generic arguments...
  local name="$1"; shift
  if k -n "$NAMESPACE" get secret "$name" >/dev/null 2>&1; then note "$name exists"; return; fi
  k -n "$NAMESPACE" create secret generic "$name" "$@" >/dev/null
  note "$name created"
}
# The migrate Job connects as PostgreSQL's superuser (the DDL role) and creates one login
# role per context from the URLs of tt-database-<context> (TT_DB_ROLES=create), each with
# a password of its own; every other pod gets only its contexts' URLs.
db_host="postgres.$NAMESPACE.svc.cluster.local:5432"
contexts=(auth catalog inventory booking payment partner)
if ! k -n "$NAMESPACE" get secret tt-postgres >/dev/null 2>&1; then
  secret tt-postgres --from-literal=password="$(random)"
  for name in tt-database-migrate "${contexts[@]/#/tt-database-}"; do
    k -n "$NAMESPACE" delete secret "$name" --ignore-not-found >/dev/null
  done
fi
password="$(k -n "$NAMESPACE" get secret tt-postgres -o jsonpath='{.data.password}' | base64 -d)"
secret tt-database-migrate --from-literal=TT_MIGRATE_DATABASE_URL="postgres://tripura:$password@$db_host/tripura"
for context in "${contexts[@]}"; do
  secret "tt-database-$context" \
    --from-literal="TT_${context^^}_DATABASE_URL=postgres://tt_$context:$(random)@$db_host/tripura"
done
secret tt-payment-gateway --from-literal=TT_GATEWAY_KEY_SECRET="$(random)" --from-literal=TT_GATEWAY_WEBHOOK_SECRET="$(random)"
secret tt-payload-keys --from-literal=TT_PAYLOAD_KEYS="kind-$(date +%Y%m):$(head -c 32 /dev/urandom | base64)"
admin_password="$(random)"
if ! k -n "$NAMESPACE" get secret tt-bootstrap-admin >/dev/null 2>&1; then
  secret tt-bootstrap-admin --from-literal=TT_BOOTSTRAP_ADMIN_EMAIL=admin@kind.tripura.travel \
    --from-literal=TT_BOOTSTRAP_ADMIN_PASSWORD="$admin_password"
  note "first admin: admin@kind.tripura.travel / $admin_password (shown once)"
fi
if ! k -n "$NAMESPACE" get secret tt-auth-keys >/dev/null 2>&1; then
  keys="$(mktemp -d)"
  docker run --rm --user "$(id -u):$(id -g)" -v "$keys:/out" -w /out "localhost:$REGISTRY_PORT/tripura-tourism:$TAG" \
    sh -c '/usr/local/bin/auth-keys init keys.json && /usr/local/bin/auth-keys public keys.json public.json' >/dev/null
  secret tt-auth-keys --from-file=keys.json="$keys/keys.json"
  k -n "$NAMESPACE" delete secret tt-auth-public-keys --ignore-not-found >/dev/null
  secret tt-auth-public-keys --from-file=keys.json="$keys/public.json"
  rm -rf "$keys"
fi

step "Applying k8s/overlays/kind with the images' digests"
# A layer over the overlay that only sets the digests just pushed (not committed).
layer="$DATA/kind"
mkdir -p "$layer"
cat >"$layer/kustomization.yaml" <<YAML
# Generated by scripts/kind-up.sh: k8s/overlays/kind with the digests of the images it pushed.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../k8s/overlays/kind
images:
$(for name in "${!digests[@]}"; do printf '  - name: %s\n    newName: localhost:%s/%s\n    newTag: %s@%s\n' "$name" "$REGISTRY_PORT" "$name" "$TAG" "${digests[$name]}"; done)
YAML
# Jobs are immutable: a new image digest means a new Job. Finished ones are removed first.
k -n "$NAMESPACE" delete job -l 'app.kubernetes.io/component in (migration,temporal-setup)' --ignore-not-found >/dev/null
k apply -k "$layer"

step "Waiting for every rollout"
k -n temporal rollout status statefulset/temporal --timeout=300s
k -n "$NAMESPACE" rollout status statefulset/postgres --timeout=300s
for job in $(k -n "$NAMESPACE" get jobs -o name); do
  k -n "$NAMESPACE" wait --for=condition=complete "$job" --timeout=600s
done
for deployment in $(k -n "$NAMESPACE" get deployments -o name); do
  k -n "$NAMESPACE" rollout status "$deployment" --timeout=600s
done

step "Booking flow through the Ingress ($INGRESS_URL)"
"$ROOT/scripts/smoke-booking.sh" "$INGRESS_URL"

cat <<MSG

  Tripura Tourism runs in kind cluster '$CLUSTER'.
    API (Ingress)  $INGRESS_URL/api/docs
    Temporal UI    http://temporal.localhost:8088 (read travellers' details: sign in as an
                   operator at http://temporal.localhost:8088/api/codec/sign-in)
    Pods           $KUBECTL --context kind-$CLUSTER -n $NAMESPACE get pods
  make kind-down deletes the cluster and the registry.
MSG
