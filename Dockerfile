# syntax=docker/dockerfile:1
# Multi-stage: a static binary on a minimal base with CA certificates.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/slipway ./cmd/slipway

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/slipway /usr/local/bin/slipway
ENTRYPOINT ["/usr/local/bin/slipway"]

# The GitHub Action image: same binary, plus a tiny shell entrypoint mapping
# action inputs (INPUT_*) to flags until `slipway action` replaces it.
FROM busybox:1.37-musl AS action
COPY --from=build /out/slipway /usr/local/bin/slipway
COPY hack/action-entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
