package source

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"sigs.k8s.io/yaml"
)

// ErrTooManyDocuments refuses a build that reads more YAML documents than the
// repository's MaxDocuments.
var ErrTooManyDocuments = errors.New("too many YAML documents")

// ErrRemoteBase means a kustomization refers to something kustomize would
// fetch from the network (a remote base, or a URL in place of a file)
// while remote bases are not allowed.
var ErrRemoteBase = fmt.Errorf("remote bases and remote files are not allowed (use --allow-remote-bases)")

// RemoteRefs lists the entries of a kustomization file that kustomize
// would fetch from the network: remote resources, components and bases
// (git clones or URLs), and http(s) URLs wherever kustomize reads a file
// through its loader, which fetches any such URL itself: patches,
// generators' files and envs, crds, configurations, replacements,
// generators, transformers, validators and openapi.
func RemoteRefs(kustomizationFile []byte) []string {
	var k struct {
		Resources             []string       `json:"resources"`
		Components            []string       `json:"components"`
		Bases                 []string       `json:"bases"`
		Generators            []string       `json:"generators"`
		Transformers          []string       `json:"transformers"`
		Validators            []string       `json:"validators"`
		Crds                  []string       `json:"crds"`
		Configurations        []string       `json:"configurations"`
		PatchesStrategicMerge []string       `json:"patchesStrategicMerge"`
		Patches               []pathEntry    `json:"patches"`
		PatchesJSON6902       []pathEntry    `json:"patchesJson6902"`
		Replacements          []pathEntry    `json:"replacements"`
		OpenAPI               map[string]any `json:"openapi"`
		ConfigMapGenerator    []generator    `json:"configMapGenerator"`
		SecretGenerator       []generator    `json:"secretGenerator"`
	}
	if err := yaml.Unmarshal(kustomizationFile, &k); err != nil {
		return nil
	}
	var out []string
	add := func(isRemote func(string) bool, refs ...string) {
		for _, r := range refs {
			if isRemote(r) {
				out = append(out, r)
			}
		}
	}
	add(IsRemote, k.Resources...)
	add(IsRemote, k.Components...)
	add(IsRemote, k.Bases...)
	// Entries of these lists are paths or inline YAML; only a one-line
	// entry can be a URL.
	for _, list := range [][]string{k.Generators, k.Transformers, k.Validators} {
		for _, r := range list {
			if !strings.Contains(r, "\n") && IsRemote(r) {
				out = append(out, r)
			}
		}
	}
	add(isRemoteFile, k.Crds...)
	add(isRemoteFile, k.Configurations...)
	add(isRemoteFile, k.PatchesStrategicMerge...)
	for _, list := range [][]pathEntry{k.Patches, k.PatchesJSON6902, k.Replacements} {
		for _, p := range list {
			add(isRemoteFile, p.Path)
		}
	}
	if p, ok := k.OpenAPI["path"].(string); ok {
		add(isRemoteFile, p)
	}
	for _, g := range append(k.ConfigMapGenerator, k.SecretGenerator...) {
		add(isRemoteFile, g.Envs...)
		add(isRemoteFile, g.Env)
		for _, f := range g.Files {
			// A files entry is "path" or "key=path".
			if _, p, ok := strings.Cut(f, "="); ok && isRemoteFile(p) {
				out = append(out, f)
			} else if isRemoteFile(f) {
				out = append(out, f)
			}
		}
	}
	return out
}

type pathEntry struct {
	Path string `json:"path"`
}

type generator struct {
	Files []string `json:"files"`
	Envs  []string `json:"envs"`
	Env   string   `json:"env"`
}

// isRemoteFile mirrors kustomize's loader (IsRemoteFile): a path with an
// http or https scheme is downloaded, not read from the repository.
func isRemoteFile(p string) bool {
	u, err := url.Parse(strings.TrimSpace(p))
	if err != nil {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return s == "http" || s == "https"
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
