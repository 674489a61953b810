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

.PHONY: all build chartserver demo test test-deps test-short fidelity fuzz bench-validate lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/slipway

# The example fleet's remote charts (http://charts.example.test,
# oci://registry.example.test) come from hack/chartserver on loopback: it
# runs the command after it with HTTP_PROXY pointing at itself.
CHARTS    := bin/chartserver -charts testdata/charts --
chartserver:
	$(GO) build -o bin/chartserver ./hack/chartserver

## demo: start the local cluster (built from Go modules the first time) and
## deploy the example fleet's staging cluster path onto it, twice: the second
## run shows a no-op redeploy.
DEMO_CLUSTER ?= slipway-demo
demo: build chartserver
	@echo "► validating every cluster path of $(FLEET)"
	$(CHARTS) $(BIN) validate --repo $(FLEET) --sops-age-key-file $(AGE_KEY)
	@echo "► starting the local cluster $(DEMO_CLUSTER)"
	@kc=$$(hack/cluster/up.sh $(DEMO_CLUSTER) | tail -n 1) && \
	echo "► deploying clusters/staging (kubeconfig $$kc)" && \
	$(CHARTS) $(BIN) apply --repo $(FLEET) --path clusters/staging --sops-age-key-file $(AGE_KEY) --kubeconfig $$kc --wait --timeout 3m && \
	echo "► deploying again: nothing should change" && \
	$(CHARTS) $(BIN) apply --repo $(FLEET) --path clusters/staging --sops-age-key-file $(AGE_KEY) --kubeconfig $$kc && \
	echo "✔ demo finished; inspect with: kubectl --kubeconfig $$kc get all -A; stop with: make cluster-down CLUSTER_NAME=$(DEMO_CLUSTER)" && \
	echo "  what runs where, and is it healthy: $(BIN) status --kubeconfig $$kc"

## test: every test, as CI runs it (installs the browser tests' chromium
## and Mermaid first, when missing).
test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## test-deps: what the browser tests need (hack/browser/setup.sh).
test-deps:
	hack/browser/setup.sh

## test-short: every test that needs no local cluster (go test -short).
test-short:
	$(GO) test -short -count=1 ./...

## fidelity: build every fixture repository (testdata/fidelity/*/repo,
## testdata/fleet) with slipway and with the Flux CLI (built from the Go
## module proxy into ~/.cache/slipway/flux the first time) and compare them
## object by object; fails on any unexplained difference. Other
## repositories: make fidelity FIDELITY_ARGS="-expect FILE DIR...".
## The fixtures' GitRepositories of other hosts must not reach the network
## (CI has none, and a test may not download): https goes to a proxy that
## refuses every connection, so such Kustomizations are "not compared".
FIDELITY_ARGS ?=
FIDELITY_OFFLINE := env HTTPS_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
fidelity: build chartserver
	$(GO) build -o bin/fidelity ./hack/fidelity
	$(if $(FIDELITY_ARGS),,$(FIDELITY_OFFLINE)) $(CHARTS) bin/fidelity $(FIDELITY_ARGS)

## fuzz: run each fuzz target for a while (corpora live in testdata/fuzz).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./internal/source/yamlcheck -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./internal/flux -run '^$$' -fuzz FuzzDecodeKustomization -fuzztime $(FUZZTIME)

## lint: go vet and staticcheck (run from the Go module proxy at a pinned
## version, so it adds nothing to go.mod).
STATICCHECK_VERSION ?= v0.8.2
lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench-validate: slipway validate vs a kubectl kustomize loop (docs/benchmarks.md).
bench-validate:
	hack/bench/validate.sh 3 100 10

clean:
	rm -rf bin

include hack/cluster/cluster.mk
