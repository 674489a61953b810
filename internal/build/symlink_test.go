package build_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ksGit is a Kustomization of this repository's path.
func ksGit(name, path string) string {
	return `---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ` + name + `
  namespace: flux-system
spec:
  interval: 10m
  path: ` + path + `
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`
}

// TestSymlinkEscapeRefused: slipway reads the repository through Flux's
// secure filesystem (fluxcd/pkg/kustomize/filesys), which refuses any path
// that resolves outside the root. A symlink to a file or directory outside
// the repository must fail the build, wherever it is met, and the outside
// content must never be read into the result.
func TestSymlinkEscapeRefused(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{
		"cm.yaml":   configMap("outside-secret"),
		"d/cm.yaml": configMap("outside-dir"),
	})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"clusters/test/ks.yaml": ksGit("resource-link", "./kdir") +
			ksGit("plain-folder-link", "./plain") +
			ksGit("dir-link", "./dirlink") +
			ksGit("path-link", "./linkeddir") +
			ksGit("inside-link", "./inside") +
			`---
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: gen
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: copied
      copy:
        - from: "@repo/plain/**"
          to: "@artifact/"
` + ksFor("artifact-link", "copied", "./", ""),
		"kdir/kustomization.yaml":    "resources:\n  - link.yaml\n",
		"plain/real.yaml":            configMap("plain-real"),
		"dirlink/kustomization.yaml": "resources:\n  - d\n",
		"inside/kustomization.yaml":  "resources:\n  - link.yaml\n",
		"shared/cm.yaml":             configMap("shared"),
	})
	must(t, os.Symlink(filepath.Join(outside, "cm.yaml"), filepath.Join(dir, "kdir", "link.yaml")))
	must(t, os.Symlink(filepath.Join(outside, "cm.yaml"), filepath.Join(dir, "plain", "link.yaml")))
	must(t, os.Symlink(filepath.Join(outside, "d"), filepath.Join(dir, "dirlink", "d")))
	must(t, os.Symlink(outside, filepath.Join(dir, "linkeddir")))
	must(t, os.Symlink("../shared/cm.yaml", filepath.Join(dir, "inside", "link.yaml")))

	cb := buildOne(t, dir, "clusters/test", buildConfig{})
	txt := findingsText(cb)
	out := renderYAML(t, cb)

	for _, name := range []string{"resource-link", "plain-folder-link", "dir-link", "path-link", "artifact-link"} {
		t.Run(name, func(t *testing.T) {
			kb := mustKustomization(t, cb, "flux-system", name)
			if kb.Err == nil {
				t.Errorf("a symlink leaving the repository must fail the build; built %d objects", len(kb.Objects))
			}
			if len(kb.Objects) != 0 {
				t.Errorf("nothing may be built, got %d objects", len(kb.Objects))
			}
			var found bool
			for _, f := range cb.Findings {
				if f.Kustomization != nil && f.Kustomization.Name == name && f.Severity == result.SeverityError {
					found = true
				}
			}
			if !found {
				t.Errorf("no error finding for %s:\n%s", name, txt)
			}
		})
	}
	t.Run("outside-content-never-read", func(t *testing.T) {
		for _, s := range []string{"outside-secret", "outside-dir"} {
			if strings.Contains(out, s) || strings.Contains(txt, s) {
				t.Errorf("content of a file outside the repository (%s) reached the output", s)
			}
		}
		for _, kb := range cb.Kustomizations {
			for _, f := range kb.Files {
				if strings.HasPrefix(f, "..") || filepath.IsAbs(f) {
					t.Errorf("%s read %q, outside the repository", kb.Ref, f)
				}
			}
		}
	})
	t.Run("findings-name-the-symlink", func(t *testing.T) {
		for _, want := range []string{"✗ kdir/link.yaml [build]", "✗ plain/link.yaml [build]", "✗ dirlink/d [build]"} {
			if !strings.Contains(txt, want) {
				t.Errorf("findings lack %q:\n%s", want, txt)
			}
		}
	})
	t.Run("inside-link-is-not-a-security-error", func(t *testing.T) {
		// The secure filesystem allows a symlink that resolves inside the root.
		kb := mustKustomization(t, cb, "flux-system", "inside-link")
		if kb.Err != nil {
			t.Fatalf("in-repository symlink refused: %v", kb.Err)
		}
		wantNames(t, kb, "shared")
	})
	t.Run("messages-are-repository-relative", func(t *testing.T) {
		if strings.Contains(txt, dir) || strings.Contains(out, dir) {
			t.Errorf("findings name the absolute repository path %s:\n%s", dir, txt)
		}
	})
	t.Run("inside-link-as-flux-sees-it", func(t *testing.T) {
		t.Skip("known divergence: source-controller leaves every symlink out of the artifact it builds from a Git checkout (storage Archive skips non-regular files; fluxcd/flux2#3619, wontfix), so Flux fails a kustomization listing an in-repository symlink ('link.yaml' not found); slipway reads the work tree and builds it")
		kb := mustKustomization(t, cb, "flux-system", "inside-link")
		if kb.Err == nil {
			t.Errorf("Flux would not find inside/link.yaml in the artifact; slipway built %v", names(kb))
		}
	})
}
