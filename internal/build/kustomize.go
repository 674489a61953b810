package build

import (
	"fmt"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// kustomizeMu guards kustomize's package-level OpenAPI schema
// (kubernetes-sigs/kustomize#3659). Once the built-in schema is loaded
// (schemaShared), builds only read it and run concurrently (read lock). A
// build that declares its own `openapi:` schema changes it, so it runs
// alone (write lock) and resets the schema afterwards.
//
// Parsing the built-in schema costs ~0.1 s of CPU, and many builds never
// need it (kustomize asks for it for strategic-merge patches and kinds
// not in its precomputed scope table, not for JSON6902 patches, labels or
// namespaces of built-in kinds). A run that builds only a few
// Kustomizations — an incremental diff, a warm cache — runs them alone
// instead, the schema unloaded (kustomize then loads it itself if it needs
// it, safely, as nothing else runs). kustomize reads part of the schema
// state without its own lock, so loading it must never overlap another
// build: that is why those builds run one at a time, and why after the
// first few the schema is loaded and builds run concurrently again.
var (
	kustomizeMu  sync.RWMutex
	schemaLoaded sync.Once
	schemaShared atomic.Bool
	aloneBuilds  atomic.Int32
)

// aloneBuildLimit is how many builds run alone, the schema not loaded,
// before it is loaded for concurrent builds: enough for the few
// Kustomizations an incremental diff rebuilds. A run that will build
// everything (no earlier build to reuse) loads it from the start instead
// (see Builder.BuildAll): its first builds are the cluster paths' roots,
// the largest of a fleet, and running them one at a time left a core
// idle for a tenth of a cold validate.
const aloneBuildLimit = 4

// loadSchema loads the built-in schema for concurrent builds. The caller
// must not hold kustomizeMu.
func loadSchema() {
	schemaLoaded.Do(func() {
		kustomizeMu.Lock()
		defer kustomizeMu.Unlock()
		_ = openapi.Schema()
		schemaShared.Store(true)
	})
}

// sharedKustomize is kustomizeMu's read side for kustomize runs outside
// runKustomize (Helm post-renderers): the schema is loaded first.
type sharedKustomize struct{}

func (sharedKustomize) Lock()   { loadSchema(); kustomizeMu.RLock() }
func (sharedKustomize) Unlock() { kustomizeMu.RUnlock() }

// runKustomize is fluxcd/pkg/kustomize.Build with one change, made for
// speed: Flux resets and re-parses kustomize's global OpenAPI schema around
// every build (hundreds of milliseconds each), which dominated validate on
// large fleets. slipway keeps the built-in schema loaded and resets it only
// after a build whose kustomizations declared their own `openapi:` schema,
// which is the only thing that changes it. Options are Flux's: load files
// from anywhere under the (locked) root, plugins disabled, panics recovered.
//
// shared says the run builds every Kustomization: the schema is loaded
// (or its loading awaited) rather than this build run alone.
func runKustomize(fs filesys.FileSystem, dirPath string, exclusive, shared bool, customOpenAPI func() bool) (res resmap.ResMap, err error) {
	if !exclusive && !schemaShared.Load() && (shared || aloneBuilds.Add(1) > aloneBuildLimit) {
		loadSchema()
	}
	if exclusive || !schemaShared.Load() {
		kustomizeMu.Lock()
		defer kustomizeMu.Unlock()
	} else {
		kustomizeMu.RLock()
		defer kustomizeMu.RUnlock()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered from kustomize build panic: %v", r)
		}
		if exclusive && customOpenAPI() {
			openapi.ResetOpenAPI()
			if schemaShared.Load() {
				// Concurrent builds rely on it being loaded.
				_ = openapi.Schema()
			}
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	return k.Run(fs, dirPath)
}
