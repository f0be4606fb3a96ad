# The two commands a new user needs; see README.md.
.PHONY: up test bootstrap kind-up kind-down

## Bring the whole platform up locally (Ctrl-C stops it).
up:
	@scripts/dev-up.sh

## Run every test (unit, replay and end-to-end).
test:
	@scripts/test.sh

## Install what is missing (protoc, Temporal CLI, PostgreSQL); `up` and `test` do this too.
bootstrap:
	@scripts/bootstrap.sh

## The platform in a local kind cluster (needs Docker and kind), then the booking flow
## through its Ingress; see docs/deploy.md.
kind-up:
	@scripts/kind-up.sh

## Delete the kind cluster and its local registry.
kind-down:
	@scripts/kind-up.sh --down
