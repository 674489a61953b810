package source

import (
	"bytes"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// generatorDataFiles lists the files a kustomization's configMapGenerator
// and secretGenerator read (files, envs, env), as absolute paths. kustomize
// copies them into ConfigMaps and Secrets as opaque bytes and never parses
// them as Kubernetes YAML, so the strict YAML check does not apply: an
// application's config file (recyclarr.yml with `!env_var KEY`) is data.
func generatorDataFiles(kfile string, data []byte) []string {
	if !bytes.Contains(data, []byte("Generator")) {
		return nil // most kustomizations have none: skip the parse
	}
	var k struct {
		ConfigMapGenerator []generator `json:"configMapGenerator"`
		SecretGenerator    []generator `json:"secretGenerator"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil // kustomize reports a malformed kustomization
	}
	dir := filepath.Dir(kfile)
	var out []string
	add := func(p string) {
		p = strings.TrimSpace(p)
		if p == "" || isRemoteFile(p) || filepath.IsAbs(p) {
			return
		}
		out = append(out, filepath.Join(dir, filepath.FromSlash(p)))
	}
	for _, g := range append(k.ConfigMapGenerator, k.SecretGenerator...) {
		for _, f := range g.Files {
			// A files entry is "path" or "key=path".
			if _, p, ok := strings.Cut(f, "="); ok {
				f = p
			}
			add(f)
		}
		for _, e := range g.Envs {
			add(e)
		}
		add(g.Env)
	}
	return out
}
