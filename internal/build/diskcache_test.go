package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/source"
)

// TestBuildCacheEqualsFullBuild: a build that takes unchanged
// Kustomizations from the on-disk cache renders exactly what a full build
// renders — findings included — after each kind of change that can reach
// a build, and reuses what no change reached.
func TestBuildCacheEqualsFullBuild(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fleetDir(t))); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(t.TempDir(), "builds")
	paths := []string{"clusters/staging", "clusters/production"}

	run := func(cached bool) (string, int64) {
		t.Helper()
		repo, err := source.OpenWorktree(dir)
		if err != nil {
			t.Fatal(err)
		}
		opts := build.DefaultOptions(repo)
		if opts.Decryptor, err = build.NewDecryptorFromFile(ageKey(t)); err != nil {
			t.Fatal(err)
		}
		var bc *build.BuildCache
		if cached {
			bc = &build.BuildCache{Dir: cacheDir, Repo: repo, Version: "test"}
			opts.Reuse = bc.Load(paths)
		}
		b, err := build.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		builds := b.BuildAll(context.Background(), paths)
		var out bytes.Buffer
		if err := report.BuildYAML(&out, builds); err != nil {
			t.Fatal(err)
		}
		if err := report.FindingsText(&out, builds); err != nil {
			t.Fatal(err)
		}
		text := durations.ReplaceAllString(out.String(), "(…)")
		if !cached {
			return text, 0
		}
		if err := bc.Save(opts.Reuse, paths); err != nil {
			t.Fatal(err)
		}
		return text, opts.Reuse.Reused()
	}
	check := func(what string, wantReuse bool) int64 {
		t.Helper()
		got, reused := run(true)
		want, _ := run(false)
		if got != want {
			t.Errorf("%s: the cached build differs from a full build:\n%s", what, firstDifference(want, got))
		}
		if wantReuse && reused == 0 {
			t.Errorf("%s: nothing was reused", what)
		}
		return reused
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(name, old, new string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s does not contain %q", name, old)
		}
		write(name, strings.Replace(string(data), old, new, 1))
	}

	check("an empty cache", false)
	all := check("nothing changed", true)
	// A stored object that does not decode: its build is built again, the
	// others reused, and the file written again whole.
	files, err := os.ReadDir(cacheDir)
	if err != nil || len(files) == 0 {
		t.Fatalf("no cache written: %v", err)
	}
	for _, e := range files {
		p := filepath.Join(cacheDir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.LastIndex(data, []byte(`{"apiVersion"`))
		if i < 0 {
			t.Fatalf("%s: no object found", p)
		}
		data[i] = '['
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := check("a stored object that does not decode", true); n >= all {
		t.Errorf("a corrupt cache reused %d builds, as many as an intact one (%d)", n, all)
	}
	if n := check("after the corrupt cache was written again", true); n != all {
		t.Errorf("the rewritten cache reused %d builds, want all %d", n, all)
	}
	write("README.md", "changed\n")
	if n := check("a change nothing reads", true); n != all {
		t.Errorf("a README change reused %d builds, want all %d", n, all)
	}
	edit("apps/base/redis/configmap.yaml", "redis.conf", "redis-changed.conf")
	check("a file of a shared base", true)
	edit("infrastructure/controllers/deployment.yaml", "replicas: 2", "replicas: 3")
	if n := check("a file of a cached Kustomization", true); n >= all {
		t.Errorf("a changed file reused %d builds, as many as with no change (%d)", n, all)
	}
	write("infrastructure/configs/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\ndata:\n  a: b\n")
	check("a file added to a directory without kustomization.yaml", true)
	write("infrastructure/configs/limits/deeper/more.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n  namespace: default\n")
	check("a file added below it", true)
	edit("clusters/staging/cluster-vars.yaml", "data:\n", "data:\n  ADDED_BY_TEST: \"1\"\n")
	check("a substituteFrom ConfigMap", true)
	write(".sourceignore", "infrastructure/configs/widget.yaml\n")
	// Any .sourceignore may exclude what any build read: nothing is reused.
	check("a .sourceignore", false)
	if err := os.Remove(filepath.Join(dir, "apps/staging/ingress.yaml")); err != nil {
		t.Fatal(err)
	}
	check("a file a kustomization.yaml lists, deleted (a build error)", true)
	write("clusters/staging/extra.yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: extra, namespace: flux-system}
spec:
  interval: 10m
  path: ./infrastructure/configs/limits
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`)
	check("a Kustomization added", true)

	// Nothing that left a Secret reaches the disk.
	entries, err := os.ReadDir(cacheDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no cache written: %v", err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(cacheDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := e.Info(); info.Mode().Perm()&0o077 != 0 {
			t.Errorf("cache file %s is readable by others: %v", e.Name(), info.Mode())
		}
		for _, values := range secretValues(t) {
			for _, v := range values {
				if bytes.Contains(data, []byte(v)) {
					t.Errorf("cache file %s holds a secret value", e.Name())
				}
			}
		}
		if bytes.Contains(data, []byte(`"kind":"Secret"`)) {
			t.Errorf("cache file %s holds a Secret", e.Name())
		}
	}
}

// durations are the only part of a report that may differ between runs.
var durations = regexp.MustCompile(`\([0-9.]+(ns|µs|ms|s)\)`)

func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) && i < len(gl); i++ {
		if wl[i] != gl[i] {
			lo := max(0, i-3)
			return "full build:\n" + strings.Join(wl[lo:min(len(wl), i+4)], "\n") + "\ncached build:\n" + strings.Join(gl[lo:min(len(gl), i+4)], "\n")
		}
	}
	return "lengths differ"
}

// TestBuildCacheKeyShared: two copies of a repository in different
// directories (the revisions a diff serves from temporary directories)
// share cache files through one Key, and content alone decides reuse:
// a file that differs between the copies is rebuilt, the rest reused.
func TestBuildCacheKeyShared(t *testing.T) {
	cacheDir := filepath.Join(t.TempDir(), "builds")
	paths := []string{"clusters/staging", "clusters/production"}
	build1 := func(dir, key string) (string, int64) {
		t.Helper()
		repo, err := source.OpenWorktree(dir)
		if err != nil {
			t.Fatal(err)
		}
		opts := build.DefaultOptions(repo)
		if opts.Decryptor, err = build.NewDecryptorFromFile(ageKey(t)); err != nil {
			t.Fatal(err)
		}
		bc := &build.BuildCache{Dir: cacheDir, Repo: repo, Key: key, Version: "test"}
		opts.Reuse = bc.Load(paths)
		b, err := build.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		builds := b.BuildAll(context.Background(), paths)
		var out bytes.Buffer
		if err := report.BuildYAML(&out, builds); err != nil {
			t.Fatal(err)
		}
		if err := bc.Save(opts.Reuse, paths); err != nil {
			t.Fatal(err)
		}
		return out.String(), opts.Reuse.Reused()
	}
	copyFleet := func() string {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(fleetDir(t))); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a, b := copyFleet(), copyFleet()
	p := filepath.Join(b, "infrastructure/controllers/deployment.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Replace(data, []byte("replicas: 2"), []byte("replicas: 3"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, n := build1(a, "repo"); n != 0 {
		t.Fatalf("an empty cache reused %d builds", n)
	}
	_, all := build1(a, "repo")
	if all == 0 {
		t.Fatal("a rebuild of the same directory reused nothing")
	}
	if _, n := build1(b, "other"); n != 0 {
		t.Errorf("another key reused %d builds", n)
	}
	// The cache now holds b's builds under "other"; a's under "repo".
	got, n := build1(b, "repo")
	if n == 0 || n >= all {
		t.Errorf("a copy with one changed file reused %d builds under the shared key, want some but fewer than %d", n, all)
	}
	want, _ := build1(copyFleetWith(t, b), "")
	if got != want {
		t.Errorf("the shared-key build differs from a fresh one:\n%s", firstDifference(want, got))
	}
}

// copyFleetWith copies dir to a new directory.
func copyFleetWith(t *testing.T, dir string) string {
	out := t.TempDir()
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return out
}
