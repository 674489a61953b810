package source

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestGeneratorDataFiles(t *testing.T) {
	k := []byte(`
resources: [app.yaml, ../base]
patches: [{path: patch.yaml}]
configMapGenerator:
- name: config
  files: [config/app.yml, extra=config/extra.yaml, https://example.com/remote.yaml]
secretGenerator:
- name: env
  envs: [config/env.yaml]
  env: legacy.env
`)
	gen, man := generatorDataFiles("/repo/apps/kustomization.yaml", k)
	if want := []string{"/repo/apps/config/app.yml", "/repo/apps/config/extra.yaml", "/repo/apps/config/env.yaml", "/repo/apps/legacy.env"}; !reflect.DeepEqual(gen, want) {
		t.Errorf("generator files %q, want %q", gen, want)
	}
	if want := []string{"/repo/apps/app.yaml", filepath.Clean("/repo/base"), "/repo/apps/patch.yaml"}; !reflect.DeepEqual(man, want) {
		t.Errorf("manifests %q, want %q", man, want)
	}
}

// TestGuardDataFileAlsoManifest: a file a kustomization reads both as a
// generator input and as a resource is still checked: kustomize parses it.
func TestGuardDataFileAlsoManifest(t *testing.T) {
	g := &GuardedFS{dataFiles: map[string]bool{}, manifestFiles: map[string]bool{}, kfiles: map[string][]byte{}}
	g.AddKustomization("/repo/apps/kustomization.yaml", []byte("resources: [both.yaml]\nconfigMapGenerator:\n- name: c\n  files: [both.yaml, data.yml]\n"))
	if !g.isDataFile("/repo/apps/data.yml") || g.isDataFile("/repo/apps/both.yaml") || g.isDataFile("/repo/apps/other.yaml") {
		t.Errorf("data %v, manifests %v", g.dataFiles, g.manifestFiles)
	}
}
