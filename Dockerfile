# syntax=docker/dockerfile:1
#
# Multi-stage build of a static secondme-bridge binary on a distroless,
# non-root base. Build: make docker (or docker build --build-arg VERSION=…).
# Run: mount your config at /config/config.yaml; the default bolt store
# (./secondme-bridge.db) lands in the /data volume, the working directory.
#
# Both base images are pinned by digest, so a rebuild gets the same bases.
# To move to newer ones, look the digests up and replace them (and say so
# in CHANGELOG.md):
#
#   docker buildx imagetools inspect golang:1.26 --format '{{json .Manifest.Digest}}'
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot --format '{{json .Manifest.Digest}}'
#
# The health check runs the binary itself (`secondme-bridge probe`, which
# GETs http://127.0.0.1:8080/readyz): the distroless image has no shell or
# curl. If you change http.listen, set SECONDME_BRIDGE_PROBE_URL to match.

FROM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/secondme-bridge ./cmd/secondme-bridge \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=dev
ARG COMMIT=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="secondme-bridge" \
      org.opencontainers.image.description="Bridges Discord and Slack to SecondMe AI avatars" \
      org.opencontainers.image.source="https://github.com/secondme-bridge/secondme-bridge" \
      org.opencontainers.image.url="https://github.com/secondme-bridge/secondme-bridge" \
      org.opencontainers.image.documentation="https://github.com/secondme-bridge/secondme-bridge#readme" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/secondme-bridge /secondme-bridge
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
VOLUME ["/data"]
USER 65532:65532
EXPOSE 8080 9090
# start-period covers the first gateway connection; a replica is ready once
# its store answers and one platform has connected (README: Operations).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/secondme-bridge", "probe"]
ENTRYPOINT ["/secondme-bridge"]
CMD ["serve", "--config", "/config/config.yaml"]
