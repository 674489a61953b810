package source

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// ErrRemoteBase means a kustomization refers to a remote base while remote
// bases are not allowed.
var ErrRemoteBase = fmt.Errorf("remote bases are not allowed (use --allow-remote-bases)")

// RemoteRefs lists the entries of a kustomization file's resources,
// components and bases that kustomize would fetch from the network.
func RemoteRefs(kustomizationFile []byte) []string {
	var k struct {
		Resources  []string `json:"resources"`
		Components []string `json:"components"`
		Bases      []string `json:"bases"`
	}
	if err := yaml.Unmarshal(kustomizationFile, &k); err != nil {
		return nil
	}
	var out []string
	for _, list := range [][]string{k.Resources, k.Components, k.Bases} {
		for _, r := range list {
			if IsRemote(r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// IsRemote mirrors the shapes kustomize treats as remote: URLs, scp-like git
// addresses, and host-qualified repository paths with a ref or subdirectory.
func IsRemote(ref string) bool {
	r := strings.TrimSpace(ref)
	switch {
	case strings.Contains(r, "://"),
		strings.HasPrefix(r, "git@"),
		strings.HasPrefix(r, "github.com/"),
		strings.HasPrefix(r, "gitlab.com/"),
		strings.HasPrefix(r, "bitbucket.org/"),
		strings.Contains(r, "?ref="),
		strings.Contains(r, ".git//"):
		return true
	}
	return false
}

// ErrCustomOpenAPI: see GuardedFS.RefuseOpenAPI.
var ErrCustomOpenAPI = fmt.Errorf("kustomization declares its own OpenAPI schema")

func declaresOpenAPI(kustomizationFile []byte) bool {
	var k struct {
		OpenAPI map[string]any `json:"openapi"`
	}
	return yaml.Unmarshal(kustomizationFile, &k) == nil && k.OpenAPI != nil
}
