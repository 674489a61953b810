package testutil

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/validate"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing")

// Golden compares got with the file at path, or rewrites it with -update.
func Golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run the test with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// RepoRoot returns the repository root of slipway's own source tree.
func RepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// BuildOptions tune Build.
type BuildOptions struct {
	Paths            []string
	AgeKeyFile       string
	AllowRemoteBases bool
	MaxFileSize      int64
}

// Build builds a repository's cluster paths the way the CLI does.
func Build(t *testing.T, repoDir string, o BuildOptions) ([]*result.ClusterBuild, error) {
	t.Helper()
	repo, err := source.OpenWorktree(repoDir)
	if err != nil {
		return nil, err
	}
	if o.MaxFileSize > 0 {
		repo.MaxFileSize = o.MaxFileSize
	}
	paths, err := repo.ClusterPaths(o.Paths)
	if err != nil {
		return nil, err
	}
	opts := build.DefaultOptions(repo)
	opts.AllowRemoteBases = o.AllowRemoteBases
	if o.AgeKeyFile != "" {
		if opts.Decryptor, err = build.NewDecryptorFromFile(o.AgeKeyFile); err != nil {
			return nil, err
		}
	}
	// Test servers listen on loopback, which users' sources may not reach.
	opts.Git = &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}
	opts.Helm.Network = source.RunNetwork(nil, true)
	b, err := build.New(opts)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.BuildAll(context.Background(), paths), nil
}

// Validate builds and validates, returning the findings as stable text:
// one "== cluster path" header, then one line per finding.
func Validate(t *testing.T, repoDir string, o BuildOptions, k8sVersion string) (string, []*result.ClusterBuild) {
	t.Helper()
	builds, err := Build(t, repoDir, o)
	if err != nil {
		return "error: " + err.Error() + "\n", nil
	}
	checks, err := validate.DefaultChecks(validate.Options{KubernetesVersion: k8sVersion})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, cb := range builds {
		validate.Run(cb, checks)
		b.WriteString("== " + cb.Path + "\n")
		m := report.NewMasker(cb.Sensitive)
		for _, f := range cb.Findings {
			b.WriteString(m.Mask(report.FindingLine(f)) + "\n")
		}
	}
	return b.String(), builds
}
