package build_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

func configMap(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: default\ndata:\n  name: " + name + "\n"
}

func ksFor(name, artifact, path string, extra string) string {
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
    kind: ExternalArtifact
    name: ` + artifact + `
` + extra
}

// artifactRepo is a repository whose cluster path declares one
// ArtifactGenerator (copying from this repository) and Kustomizations
// building its artifacts.
func artifactRepo(t *testing.T, artifacts string, kustomizations string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"clusters/test/generator.yaml": `apiVersion: source.extensions.fluxcd.io/v1beta1
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
` + artifacts + kustomizations,
	}
	for k, v := range files {
		all[k] = v
	}
	writeTree(t, dir, all)
	return dir
}

// names returns the ConfigMap names a Kustomization built, sorted.
func names(kb *result.KustomizationBuild) []string {
	var out []string
	for _, o := range kb.Objects {
		if o.Object.GetKind() == "ConfigMap" {
			out = append(out, o.Object.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func wantNames(t *testing.T, kb *result.KustomizationBuild, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := names(kb); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Kustomization %s built %v, want %v (err: %v)", kb.Ref, got, want, kb.Err)
	}
}

// TestArtifactGeneratorCopy builds ExternalArtifacts assembled by an
// ArtifactGenerator with each copy form of source-watcher and checks what
// ends up in them, and that objects and findings name the files of the
// repository, never the temporary artifact directory.
func TestArtifactGeneratorCopy(t *testing.T) {
	files := map[string]string{
		"src/app/cm-a.yaml":          configMap("a"),
		"src/app/sub/cm-b.yaml":      configMap("b"),
		"src/app/README.md":          "# not a manifest\n",
		"src/app/skip-me.yaml":       configMap("skipped"),
		"src/glob/x.yaml":            configMap("x"),
		"src/glob/y.yaml":            configMap("y"),
		"src/glob/notes.txt":         "apiVersion: v1\n",
		"src/glob/sub/z.yaml":        configMap("z"),
		"src/single/cm-c.yaml":       configMap("c"),
		"src/vars/cm-v.yaml":         "# leading comment\n" + strings.Replace(configMap("v"), "name: v\n", "name: v\n  missing: ${NOT_SET}\n", 1),
		"src/broken/ok.yaml":         configMap("ok"),
		"src/broken/dup.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  k: one\n  k: two\n",
		"src/deep/keep.yaml":         configMap("keep"),
		"src/deep/x/testdata/t.yaml": configMap("nested-testdata"),
		"src/deep/sub/drop.yaml":     configMap("drop"),
		"src/deep/café/drop.yaml":    configMap("drop-accented"),
	}
	artifacts := `    - name: recursive
      copy:
        - from: "@repo/src/app/**"
          to: "@artifact/"
          exclude: ["*.md", "skip-*.yaml"]
    - name: globbed
      copy:
        - from: "@repo/src/glob/*.yaml"
          to: "@artifact/manifests/"
    - name: single
      copy:
        - from: "@repo/src/single/cm-c.yaml"
          to: "@artifact/one/"
        - from: "@repo/src/single/cm-c.yaml"
          to: "@artifact/renamed/config.yaml"
        - from: "@repo/src/app"
          to: "@artifact/dirs/"
    - name: vars
      copy:
        - from: "@repo/src/vars/**"
          to: "@artifact/"
    - name: broken
      copy:
        - from: "@repo/src/broken/**"
          to: "@artifact/b/"
`
	kss := ksFor("recursive-root", "recursive", "./", "") +
		ksFor("recursive-sub", "recursive", "./sub", "") +
		ksFor("globbed", "globbed", "./manifests", "") +
		ksFor("single-dir", "single", "./one", "") +
		ksFor("single-renamed", "single", "./renamed", "") +
		ksFor("single-dircopy", "single", "./dirs/app/sub", "") +
		ksFor("vars", "vars", "./", "  postBuild:\n    substitute:\n      SOME: value\n") +
		ksFor("broken", "broken", "./b", "")
	dir := artifactRepo(t, artifacts, kss, files)
	cb := buildOne(t, dir, "clusters/test", buildConfig{})
	all := findingsText(cb)

	t.Run("dir-recursive-with-excludes", func(t *testing.T) {
		root := mustKustomization(t, cb, "flux-system", "recursive-root")
		wantNames(t, root, "a", "b")
		if root.Source != "ExternalArtifact/flux-system/recursive" {
			t.Errorf("Source = %q", root.Source)
		}
		// dir/** keeps the subdirectories below dir.
		wantNames(t, mustKustomization(t, cb, "flux-system", "recursive-sub"), "b")
		if o := mustObject(t, root, "ConfigMap", "default", "b"); o.Origin != (result.Origin{File: "src/app/sub/cm-b.yaml", Line: 1}) {
			t.Errorf("origin of b = %v, want src/app/sub/cm-b.yaml:1", o.Origin)
		}
		for _, f := range root.Files {
			if !strings.HasPrefix(f, "src/app/") {
				t.Errorf("Files must be repository paths of copied files, got %q", f)
			}
		}
	})
	t.Run("glob-selects-files-of-one-directory", func(t *testing.T) {
		// *.yaml matches x and y, not notes.txt, not sub/z.yaml.
		kb := mustKustomization(t, cb, "flux-system", "globbed")
		wantNames(t, kb, "x", "y")
		if o := mustObject(t, kb, "ConfigMap", "default", "x"); o.Origin != (result.Origin{File: "src/glob/x.yaml", Line: 1}) {
			t.Errorf("origin of x = %v", o.Origin)
		}
	})
	t.Run("single-file-and-rename-and-dir", func(t *testing.T) {
		one := mustKustomization(t, cb, "flux-system", "single-dir")
		wantNames(t, one, "c")
		renamed := mustKustomization(t, cb, "flux-system", "single-renamed")
		wantNames(t, renamed, "c")
		if o := mustObject(t, renamed, "ConfigMap", "default", "c"); o.Origin != (result.Origin{File: "src/single/cm-c.yaml", Line: 1}) {
			t.Errorf("a renamed file must still point at its repository file, got %v", o.Origin)
		}
		// A directory without glob is copied as to/<dir>/ (cp -r semantics).
		wantNames(t, mustKustomization(t, cb, "flux-system", "single-dircopy"), "b")
	})
	t.Run("findings-point-at-repository-files", func(t *testing.T) {
		vars := mustKustomization(t, cb, "flux-system", "vars")
		o := mustObject(t, vars, "ConfigMap", "default", "v")
		if o.Origin != (result.Origin{File: "src/vars/cm-v.yaml", Line: 2}) {
			t.Errorf("origin of v = %v, want src/vars/cm-v.yaml:2", o.Origin)
		}
		// The object starts on line 2; ${NOT_SET} is on line 6.
		if !strings.Contains(all, "src/vars/cm-v.yaml:6 [substitution] ConfigMap/default/v: variable ${NOT_SET} is not set") {
			t.Errorf("substitution finding must point at the variable's line, src/vars/cm-v.yaml:6; findings:\n%s", all)
		}
		broken := mustKustomization(t, cb, "flux-system", "broken")
		if broken.Err == nil {
			t.Fatal("a duplicate key in a copied file must fail the build")
		}
		var found bool
		for _, f := range cb.Findings {
			if f.Kustomization != nil && f.Kustomization.Name == "broken" && f.Severity == result.SeverityError {
				found = true
				if f.Origin.File != "src/broken/dup.yaml" || f.Origin.Line != 7 {
					t.Errorf("duplicate-key finding origin = %v, want src/broken/dup.yaml:7", f.Origin)
				}
			}
		}
		if !found {
			t.Errorf("no error finding for Kustomization broken:\n%s", all)
		}
		tmp := os.TempDir()
		if strings.Contains(all, tmp) || strings.Contains(all, "slipway-build-") || strings.Contains(renderYAML(t, cb), tmp) {
			t.Errorf("output names the temporary artifact directory:\n%s", all)
		}
		for _, kb := range cb.Kustomizations {
			if kb.Err != nil && strings.Contains(kb.Err.Error(), tmp) {
				t.Errorf("%s error names the temporary directory: %v", kb.Ref, kb.Err)
			}
		}
	})

	// Behaviours of source-watcher's builder (internal/builder/builder.go)
	// that slipway does not reproduce yet.
	t.Run("glob-keeps-the-matched-path", func(t *testing.T) {
		dir := artifactRepo(t, `    - name: globbed
      copy:
        - from: "@repo/src/glob/*.yaml"
          to: "@artifact/manifests/"
`, ksFor("globbed", "globbed", "./manifests/src/glob", ""), files)
		cb := buildOne(t, dir, "clusters/test", buildConfig{})
		wantNames(t, mustKustomization(t, cb, "flux-system", "globbed"), "x", "y")
	})
	t.Run("exclude-patterns-are-doublestar-and-relative", func(t *testing.T) {
		dir := artifactRepo(t, `    - name: deep
      copy:
        - from: "@repo/src/deep/**"
          to: "@artifact/"
          exclude: ["**/testdata/**", "sub/*.yaml", "café/*.yaml"]
`, ksFor("deep", "deep", "./", ""), files)
		cb := buildOne(t, dir, "clusters/test", buildConfig{})
		wantNames(t, mustKustomization(t, cb, "flux-system", "deep"), "keep")
	})
	t.Run("glob-without-match-is-an-error", func(t *testing.T) {
		dir := artifactRepo(t, `    - name: empty
      copy:
        - from: "@repo/src/glob/*.json"
          to: "@artifact/"
`, ksFor("empty", "empty", "./", ""), files)
		cb := buildOne(t, dir, "clusters/test", buildConfig{})
		kb := mustKustomization(t, cb, "flux-system", "empty")
		if kb.Err == nil || !strings.Contains(kb.Err.Error(), "*.json") {
			t.Errorf("want an error naming the pattern, got %v", kb.Err)
		}
	})
}
