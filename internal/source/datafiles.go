package source

import (
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// generatorDataFiles lists the files a kustomization's configMapGenerator
// and secretGenerator read (files, envs, env), and the files it reads as
// manifests (resources, patches), as absolute paths. kustomize copies a
// generator's files into ConfigMaps and Secrets as opaque bytes and never
// parses them as Kubernetes YAML, so the strict YAML check does not apply:
// an application's config file (recyclarr.yml with `!env_var KEY`) is data.
// A file also read as a manifest stays checked.
func generatorDataFiles(kfile string, data []byte) (generated, manifests []string) {
	var k struct {
		Resources             []string    `json:"resources"`
		PatchesStrategicMerge []string    `json:"patchesStrategicMerge"`
		Patches               []pathEntry `json:"patches"`
		ConfigMapGenerator    []generator `json:"configMapGenerator"`
		SecretGenerator       []generator `json:"secretGenerator"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, nil // kustomize reports a malformed kustomization
	}
	dir := filepath.Dir(kfile)
	abs := func(p string) (string, bool) {
		p = strings.TrimSpace(p)
		if p == "" || isRemoteFile(p) || filepath.IsAbs(p) {
			return "", false
		}
		return filepath.Join(dir, filepath.FromSlash(p)), true
	}
	add := func(list *[]string, p string) {
		if a, ok := abs(p); ok {
			*list = append(*list, a)
		}
	}
	for _, g := range append(k.ConfigMapGenerator, k.SecretGenerator...) {
		for _, f := range g.Files {
			// A files entry is "path" or "key=path".
			if _, p, ok := strings.Cut(f, "="); ok {
				f = p
			}
			add(&generated, f)
		}
		for _, e := range g.Envs {
			add(&generated, e)
		}
		add(&generated, g.Env)
	}
	for _, r := range append(k.Resources, k.PatchesStrategicMerge...) {
		add(&manifests, r)
	}
	for _, p := range k.Patches {
		add(&manifests, p.Path)
	}
	return generated, manifests
}
