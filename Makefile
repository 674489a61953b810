# slipway — developer entry points. Two commands matter on a fresh machine:
#   make demo   run slipway's main job on the built-in example repository
#   make test   run every test (unit, golden, fuzz seeds, cluster)
# Go modules are the only download; everything is cached after the first run.

GO        ?= go
BIN       := bin/slipway
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FLEET     := testdata/fleet
AGE_KEY   := testdata/keys/age.agekey
# Test timeout: the first run builds a Kubernetes control plane (~5 min on 2 cores).
TEST_TIMEOUT ?= 30m

.PHONY: all build demo test test-short fuzz bench-validate lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/slipway

## demo: build and validate the example fleet (the deploy issue extends it).
demo: build
	@echo "► validating every cluster path of $(FLEET)"
	$(BIN) validate --repo $(FLEET) --sops-age-key-file $(AGE_KEY)
	@echo "► building clusters/staging (Secret values are always redacted)"
	$(BIN) build --repo $(FLEET) --path clusters/staging --sops-age-key-file $(AGE_KEY) --output-dir bin/demo-build
	@echo "✔ one file per Kustomization written under bin/demo-build/clusters/staging:"
	@ls bin/demo-build/clusters/staging

## test: every test, as CI runs it.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## test-short: skip the tests that need the local cluster.
test-short:
	SLIPWAY_SKIP_CLUSTER=1 $(GO) test -count=1 ./...

## fuzz: run each fuzz target for a while (corpora live in testdata/fuzz).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./internal/source/yamlcheck -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./internal/flux -run '^$$' -fuzz FuzzDecodeKustomization -fuzztime $(FUZZTIME)

## bench-validate: slipway validate vs a kubectl kustomize loop (docs/benchmarks.md).
bench-validate:
	hack/bench/validate.sh 3 100 10

clean:
	rm -rf bin

include hack/cluster/cluster.mk
