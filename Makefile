# The two commands a new user needs; see README.md.
.PHONY: up test bootstrap

## Bring the whole platform up locally (Ctrl-C stops it).
up:
	@scripts/dev-up.sh

## Run every test (unit, replay and end-to-end).
test:
	@scripts/test.sh

## Install what is missing (protoc, Temporal CLI, PostgreSQL); `up` and `test` do this too.
bootstrap:
	@scripts/bootstrap.sh
