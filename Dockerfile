# syntax=docker/dockerfile:1
# slipway images: a static binary (no cgo, -trimpath, stripped) on distroless
# static, which holds CA certificates, tzdata and /etc/passwd and nothing
# else: no shell, no package manager.
#
#   docker build --target cli -t slipway .     the CLI, runs as non-root
#   docker build -t slipway-action .           the GitHub Action (last stage)
#
# The stripped binary is about 101 MB (31 MB gzipped: Helm, Kubernetes, SOPS
# and the Flux libraries); distroless static adds about 2 MB, so either image
# is about 103 MB on disk and 32 MB to pull.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/slipway ./cmd/slipway

# The CLI image: uid 65532, for running slipway anywhere else.
FROM gcr.io/distroless/static-debian12:nonroot AS cli
COPY --from=build /out/slipway /usr/local/bin/slipway
ENTRYPOINT ["/usr/local/bin/slipway"]

# The GitHub Action image. GitHub runs Docker actions as the image's user
# and mounts the workspace and the runner's command files (GITHUB_OUTPUT,
# GITHUB_STEP_SUMMARY) owned by the runner's uid; its documentation says
# Docker actions must run as root ("Dockerfile support for GitHub Actions",
# USER), or they cannot write there. The runner isolates the container;
# slipway itself never executes repository content.
FROM gcr.io/distroless/static-debian12 AS action
COPY --from=build /out/slipway /usr/local/bin/slipway
ENTRYPOINT ["/usr/local/bin/slipway", "action"]
