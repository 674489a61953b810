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

// kustomizeMu serialises kustomize runs: kustomize keeps its OpenAPI
// schema in package state (kubernetes-sigs/kustomize#3659).
var kustomizeMu sync.Mutex

// runKustomize is fluxcd/pkg/kustomize.Build with one change, made for
// speed: Flux resets and re-parses kustomize's global OpenAPI schema around
// every build (hundreds of milliseconds each), which dominated validate on
// large fleets. slipway keeps the built-in schema loaded and resets it only
// after a build whose kustomizations declared their own `openapi:` schema,
// which is the only thing that changes it. Options are Flux's: load files
// from anywhere under the (locked) root, plugins disabled, panics recovered.
func runKustomize(fs filesys.FileSystem, dirPath string, customOpenAPI func() bool) (res resmap.ResMap, err error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered from kustomize build panic: %v", r)
		}
		if customOpenAPI() {
			openapi.ResetOpenAPI()
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	return k.Run(fs, dirPath)
}
