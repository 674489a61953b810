package build

import (
	"fmt"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// kustomizeMu guards kustomize's package-level OpenAPI schema
// (kubernetes-sigs/kustomize#3659). The schema is loaded once, before any
// build; builds then only read it and run concurrently (read lock). A build
// that declares its own `openapi:` schema changes it, so it runs alone
// (write lock) and resets the schema afterwards.
var (
	kustomizeMu  sync.RWMutex
	schemaLoaded sync.Once
)

// runKustomize is fluxcd/pkg/kustomize.Build with one change, made for
// speed: Flux resets and re-parses kustomize's global OpenAPI schema around
// every build (hundreds of milliseconds each), which dominated validate on
// large fleets. slipway keeps the built-in schema loaded and resets it only
// after a build whose kustomizations declared their own `openapi:` schema,
// which is the only thing that changes it. Options are Flux's: load files
// from anywhere under the (locked) root, plugins disabled, panics recovered.
func runKustomize(fs filesys.FileSystem, dirPath string, exclusive bool, customOpenAPI func() bool) (res resmap.ResMap, err error) {
	schemaLoaded.Do(func() { _ = openapi.Schema() })
	if exclusive {
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
			_ = openapi.Schema()
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	return k.Run(fs, dirPath)
}
