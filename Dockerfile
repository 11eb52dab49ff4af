# syntax=docker/dockerfile:1
#
# Multi-stage build of a static secondme-bridge binary on a distroless,
# non-root base. Build: make docker (or docker build --build-arg VERSION=…).
# Run: mount your config at /config/config.yaml; the default bolt store
# (./secondme-bridge.db) lands in the /data volume, the working directory.

FROM golang:1.26 AS build
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

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/secondme-bridge /secondme-bridge
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
VOLUME ["/data"]
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/secondme-bridge"]
CMD ["serve", "--config", "/config/config.yaml"]
