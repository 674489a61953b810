package source_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slipwayhq/slipway/internal/source"
)

// ReadAsFile holds exactly the paths a view read as files (a file the
// strict YAML check then refused included: it is no directory), not a
// directory, not one it never read, however the path is spelled.
func TestReadAsFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"base/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"base/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
		"bad.yaml":        "a: 1\na: 2\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := repo.Guard(nil)
	abs := func(p string) string { return filepath.Join(repo.Root, p) }
	if _, err := g.ReadFile(abs("base/cm.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadFile(repo.Root + "/base/./other.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadFile(abs("base")); err == nil {
		t.Fatal("reading a directory succeeded")
	}
	if _, err := g.ReadFile(abs("bad.yaml")); err == nil {
		t.Fatal("a duplicate key passed the strict check")
	}
	for p, want := range map[string]bool{
		abs("base/cm.yaml"):         true,
		abs("base/../base/cm.yaml"): true,
		abs("base"):                 false,
		abs("bad.yaml"):             true,
		abs("base/other.yaml"):      true,
		abs("never.yaml"):           false,
	} {
		if got := g.ReadAsFile(p); got != want {
			t.Errorf("ReadAsFile(%s) = %v, want %v", p, got, want)
		}
	}
}
