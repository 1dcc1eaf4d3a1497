# syntax=docker/dockerfile:1
# Base images are pinned by digest (the tag beside it says what it is); update both together.
FROM rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS build
WORKDIR /src
COPY . .
# The service binary alone: no simulators, demo or benchmarks (feature `sim` off).
RUN cargo build --release --locked -p tradehub-bin --no-default-features

FROM debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251
# No curl or shell tools beyond the base: the health check is `tradehub health`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app tradehub \
 && mkdir -p /var/lib/tradehub \
 && chown tradehub /var/lib/tradehub
# /var/lib/tradehub holds the file-drop brokers' folders and the finance inbox; mount a volume there.
WORKDIR /app
COPY --from=build /src/target/release/tradehub /usr/local/bin/tradehub
COPY config/ /app/config/
COPY data/ /app/data/
USER tradehub
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["tradehub", "health", "--config", "/app/config/hub.toml"]
ENTRYPOINT ["tradehub"]
CMD ["serve", "--config", "/app/config/hub.toml"]
