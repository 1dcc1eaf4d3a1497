# syntax=docker/dockerfile:1
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The service binary alone: no simulators, demo or benchmarks (feature `sim` off).
RUN cargo build --release --locked -p tradehub-bin --no-default-features

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
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
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["tradehub"]
CMD ["serve", "--config", "/app/config/hub.toml"]
