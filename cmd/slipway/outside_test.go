package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutsidePathsAnswerAlike: a kustomization naming a path outside the
// repository gets the same answer whether the path exists, is missing or
// cannot be read, named relatively, absolutely or through a symlink, so a
// pull request cannot probe the runner's disk.
func TestOutsidePathsAnswerAlike(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"exists/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", "locked/x/cm.yaml": ""})
	if err := os.Chmod(filepath.Join(outside, "locked"), 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(outside, "locked"), 0o755) })
	targets := map[string]string{"exists": "exists/cm.yaml", "missing": "missing/cm.yaml", "locked": "locked/x/cm.yaml", "dir": "exists"}

	repo := t.TempDir()
	files := map[string]string{}
	for name, target := range targets {
		abs := filepath.Join(outside, target)
		rel, err := filepath.Rel(filepath.Join(repo, "rel-"+name), abs)
		if err != nil {
			t.Fatal(err)
		}
		for form, ref := range map[string]string{"rel": rel, "abs": abs, "link": "link"} {
			files["clusters/test/"+form+"-"+name+".yaml"] = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + form + "-" + name + "\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./" + form + "-" + name + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
			files[form+"-"+name+"/kustomization.yaml"] = "resources:\n- " + ref + "\n"
		}
	}
	writeFiles(t, repo, files)
	for name, target := range targets {
		if err := os.Symlink(filepath.Join(outside, target), filepath.Join(repo, "link-"+name, "link")); err != nil {
			t.Fatal(err)
		}
	}

	r := runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	for _, form := range []string{"rel", "abs", "link"} {
		var first string
		for _, name := range []string{"exists", "missing", "locked", "dir"} {
			line := lineWith(r.out, "Kustomization/flux-system/"+form+"-"+name+":")
			if !strings.Contains(line, "outside the repository") {
				t.Errorf("%s-%s: %s", form, name, line)
			}
			// The same message, once the names that differ are made equal.
			norm := strings.NewReplacer(form+"-"+name, "K", targets[name], "T", outside, "O", repo, "R").Replace(line)
			if i := strings.Index(norm, "["); i >= 0 {
				norm = norm[i:]
			}
			if first == "" {
				first = norm
			} else if norm != first {
				t.Errorf("%s: the answers differ:\n%s\n%s", form, first, norm)
			}
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", r.out)
	}
}
