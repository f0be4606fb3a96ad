#!/usr/bin/env bash
# Releases the platform's image: builds it, pushes it, and pins the manifests to it.
#
#   scripts/release-image.sh <registry>/<repository> <version>
#   e.g. scripts/release-image.sh registry.example.com/tripura-tourism/tripura-tourism 0.2.0
#
# Writes into k8s/components/release-image/kustomization.yaml the image name and
# `<version>@sha256:<digest>` of what the registry now holds (the kubelet pulls the
# digest; the tag says which release it is), and renames the migration Job to
# migrate-<version> (a Job's pod template is immutable, so each release gets its own).
# Records the API's contract as released: api/contract/openapi.json becomes
# api/contract/released.json, the baseline later changes are checked against, and the
# changelog's "Unreleased" entries go under the version.
# Commit the result: the manifests in git always name exactly the image they were
# released with. Needs Docker, logged in to the registry.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ "$#" -eq 2 ] || die "usage: scripts/release-image.sh <registry>/<repository> <version>"
repository="$1" version="$2"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-.][0-9A-Za-z.-]+)?$ ]] || die "version $version is not of the form 1.2.3"
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then die "releasing needs a running Docker engine"; fi

step "Building and pushing $repository:$version"
DOCKER_BUILDKIT=1 docker build -t "$repository:$version" .
docker push "$repository:$version"
digest="$(docker inspect --format '{{index .RepoDigests 0}}' "$repository:$version" | sed 's/.*@//')"
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "no digest for $repository:$version after the push"

step "Pinning the manifests to $repository:$version@$digest"
component=k8s/components/release-image/kustomization.yaml
sed -i -E "s|^( *newName: ).*|\1$repository|; s|^( *newTag: ).*|\1$version@$digest|" "$component"
job_name="migrate-$(tr '[:upper:]' '[:lower:]' <<<"$version" | sed 's/[^a-z0-9-]/-/g')"
sed -i -E "0,/^  name: migrate-.*/s//  name: $job_name/" k8s/base/migrate-job.yaml
"$ROOT/scripts/check-deploy.sh"

step "Recording the API contract of $version"
cp api/contract/openapi.json api/contract/released.json
sed -i "0,/^## Unreleased\$/s//## Unreleased\n\n## $version/" api/contract/CHANGELOG.md
note "now commit $component, k8s/base/migrate-job.yaml and api/contract/"
