package source

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestIgnoreMatchesSourceController(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"kubernetes/apps/a.yaml", "kubernetes/x.sample.yaml", "docs/b.yaml", "top.yaml", ".github/ci.yaml", "sub/.sourceignore", "sub/c.yaml", "sub/d.yaml"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := ""
		if filepath.Base(f) == ".sourceignore" {
			data = "c.yaml\n"
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		spec    string
		ignored map[string]bool
	}{
		// The common template: exclude all, re-include one directory.
		{"/*\n!/kubernetes\n*.sample.yaml\n", map[string]bool{
			"kubernetes/apps/a.yaml": false, "kubernetes/x.sample.yaml": true, "docs/b.yaml": true,
			"top.yaml": true, ".github/ci.yaml": true, "sub/c.yaml": true, "sub/d.yaml": true,
		}},
		// No spec.ignore but a .sourceignore: it replaces the defaults,
		// so .github/ is kept; the VCS exclusions always apply.
		{"", map[string]bool{
			"kubernetes/apps/a.yaml": false, "docs/b.yaml": false, ".github/ci.yaml": false,
			"sub/c.yaml": true, "sub/d.yaml": false, ".git/config": true,
		}},
		// A pattern scoped to the root, not to a Kustomization's directory.
		{"/kubernetes/apps\n", map[string]bool{"kubernetes/apps/a.yaml": true, "kubernetes/x.sample.yaml": false}},
	}
	for _, c := range cases {
		ig, err := NewIgnore(root, c.spec)
		if err != nil {
			t.Fatal(err)
		}
		for f, want := range c.ignored {
			if got := ig.Ignored(filepath.Join(root, filepath.FromSlash(f))); got != want {
				t.Errorf("spec %q: %s ignored = %v, want %v", c.spec, f, got, want)
			}
		}
	}
}

func TestIgnoreDefaultsWithoutPatterns(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, ".github"), 0o755); err != nil {
		t.Fatal(err)
	}
	ig, err := NewIgnore(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if !ig.Ignored(filepath.Join(root, ".github", "workflow.yaml")) || !ig.Ignored(filepath.Join(root, "a", ".sops.yaml")) {
		t.Error("the default exclusions do not apply without any pattern")
	}
	if ig.Ignored(filepath.Join(root, "a", "b.yaml")) {
		t.Error("a plain manifest is ignored")
	}
}

func TestGuardHidesIgnoredFiles(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"app/kept.yaml", "app/hidden.yaml"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("a: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := OpenWorktree(root)
	if err != nil {
		t.Fatal(err)
	}
	g := repo.Guard(nil)
	if g.Ignore, err = NewIgnore(repo.Root, "hidden.yaml\n"); err != nil {
		t.Fatal(err)
	}
	hidden := filepath.Join(repo.Root, "app", "hidden.yaml")
	if _, err := g.ReadFile(hidden); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading an ignored file: %v, want not-exist", err)
	}
	if g.Exists(hidden) {
		t.Error("an ignored file exists")
	}
	if _, err := g.ReadFile(filepath.Join(repo.Root, "app", "kept.yaml")); err != nil {
		t.Errorf("reading a kept file: %v", err)
	}
}
