package source_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/source"
)

// One build reads at most MaxDocuments YAML documents: the error names
// the file and the line of the first document over, and a file read twice
// counts once.
func TestMaxDocuments(t *testing.T) {
	dir := t.TempDir()
	var docs []string
	for i := range 12 {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\n", i))
	}
	for name, content := range map[string]string{
		"many.yaml":  strings.Join(docs, "---\n"),
		"few.yaml":   strings.Join(docs[:6], "---\n"),
		"other.yaml": strings.Join(docs[:6], "---\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	repo.MaxDocuments = 10

	g := repo.Guard(nil)
	_, err = g.ReadFile(filepath.Join(repo.Root, "many.yaml"))
	var fe *source.FileError
	if !errors.Is(err, source.ErrTooManyDocuments) || !errors.As(err, &fe) || fe.File != "many.yaml" || fe.Line != 51 {
		t.Fatalf("12 documents over a bound of 10: %v (%+v)", err, fe)
	}

	g = repo.Guard(nil)
	for range 3 {
		if _, err := g.ReadFile(filepath.Join(repo.Root, "few.yaml")); err != nil {
			t.Fatalf("a file read again counts once: %v", err)
		}
	}
	if _, err := g.ReadFile(filepath.Join(repo.Root, "other.yaml")); !errors.Is(err, source.ErrTooManyDocuments) {
		t.Fatalf("6 + 6 documents over a bound of 10 in one build: %v", err)
	}
	// Each build has its own count.
	if _, err := repo.Guard(nil).ReadFile(filepath.Join(repo.Root, "other.yaml")); err != nil {
		t.Fatal(err)
	}
}
