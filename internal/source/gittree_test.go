package source

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipwayhq/slipway/internal/source/yamlcheck"
)

func commitFiles(t *testing.T, dir string, r *git.Repository, n int, files map[string]string) string {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(content, "symlink:") {
			if err := os.Symlink(strings.TrimPrefix(content, "symlink:"), p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Date(2025, 1, 1, 0, n, 0, 0, time.UTC)}
	h, err := wt.Commit("c", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestOpenRevision(t *testing.T) {
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateRemote(&gitconfigRemote); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Relative, as repositories carry them (go-git rewrites absolute ones).
	escape, err := filepath.Rel(filepath.Join(dir, "links"), outside)
	if err != nil {
		t.Fatal(err)
	}
	c1 := commitFiles(t, dir, r, 0, map[string]string{
		"clusters/a/ns.yaml":   "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
		"big/large.yaml":       "a: " + strings.Repeat("x", 2000) + "\n",
		"links/inside.yaml":    "symlink:../clusters/a/ns.yaml",
		"links/outside.yaml":   "symlink:" + escape,
		"docs/README.md":       "v1\n",
		"clusters/b/keep.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
	})
	c2 := commitFiles(t, dir, r, 1, map[string]string{
		"clusters/a/ns.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a2\n",
		"docs/README.md":      "",
		"clusters/c/new.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n",
	})

	repo, err := OpenRevision(dir, c1[:10])
	if err != nil {
		t.Fatal(err)
	}
	root := repo.Root
	if repo.Revision != c1 || !repo.IsThisRepository("git@github.com:example-org/fleet.git") {
		t.Errorf("revision %q, urls %v", repo.Revision, repo.URLs)
	}
	paths, err := repo.ClusterPaths(nil)
	if err != nil || strings.Join(paths, ",") != "clusters/a,clusters/b" {
		t.Errorf("cluster paths %v, %v", paths, err)
	}
	if paths, err := repo.ClusterPaths([]string{"./clusters/b/", "clusters/a"}); err != nil || strings.Join(paths, ",") != "clusters/b,clusters/a" {
		t.Errorf("named cluster paths %v, %v", paths, err)
	}
	// The file list and the cluster paths come from the tree: nothing is
	// written until a file is read.
	if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
		t.Errorf("the tree was written before anything read it: %v, %v", entries, err)
	}
	files := repo.Files()
	if len(files) != 6 || files["clusters/a/ns.yaml"] != plumbing.ComputeHash(plumbing.BlobObject, []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n")) {
		t.Errorf("files %v", files)
	}
	if files["links/inside.yaml"] == plumbing.ComputeHash(plumbing.BlobObject, []byte("../clusters/a/ns.yaml")) {
		t.Error("a symlink hashes as a file of its target's name")
	}
	if _, err := repo.ClusterPaths([]string{"clusters/missing"}); err == nil {
		t.Error("a missing cluster path was accepted")
	}
	data, err := repo.FS.ReadFile(filepath.Join(root, "clusters/a/ns.yaml"))
	if err != nil || !strings.Contains(string(data), "name: a\n") {
		t.Errorf("reading the base revision: %q, %v", data, err)
	}
	if data, err := repo.FS.ReadFile(filepath.Join(root, "links/inside.yaml")); err != nil || !strings.Contains(string(data), "name: a") {
		t.Errorf("a symlink inside the tree: %q, %v", data, err)
	}
	if _, err := repo.FS.ReadFile(filepath.Join(root, "links/outside.yaml")); err == nil {
		t.Error("a symlink out of the tree was followed")
	}
	repo.MaxFileSize = 1000
	if _, err := repo.Guard(nil).ReadFile(filepath.Join(root, "big/large.yaml")); !errors.Is(err, yamlcheck.ErrTooLarge) {
		t.Errorf("an oversized file: %v", err)
	}
	if err := repo.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("Close left %s behind: %v", root, err)
	}

	changes, err := ChangedFiles(dir, c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, string(c.Action)+" "+c.Path)
	}
	want := "modified clusters/a/ns.yaml,added clusters/c/new.yaml,deleted docs/README.md"
	if strings.Join(got, ",") != want {
		t.Errorf("changes %q, want %q", strings.Join(got, ","), want)
	}
	// The worktree as head: an uncommitted edit and an untracked file.
	if err := os.WriteFile(filepath.Join(dir, "clusters/b/keep.yaml"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "untracked.yaml"), []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changes, err = ChangedFiles(dir, c2, "")
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, c := range changes {
		got = append(got, string(c.Action)+" "+c.Path)
	}
	if strings.Join(got, ",") != "modified clusters/b/keep.yaml,added untracked.yaml" {
		t.Errorf("worktree changes %q", got)
	}

	// A full clone gets no shallow-clone hint; a walk past the first
	// commit says so instead of go-git's bare EOF.
	if _, err := OpenRevision(dir, "no-such-branch"); err == nil || !strings.Contains(err.Error(), "no-such-branch") || strings.Contains(err.Error(), "fetch-depth") {
		t.Errorf("an unknown revision: %v", err)
	}
	if _, err := OpenRevision(dir, "HEAD~50"); err == nil || !strings.Contains(err.Error(), "history is shorter") {
		t.Errorf("a revision before the first commit: %v", err)
	}
}

func TestTreePathRefusesEscapes(t *testing.T) {
	for _, bad := range []string{"../x", "a/../../x", ".git/config", "a/.GIT/hooks/x"} {
		if _, err := treePath(bad); err == nil {
			t.Errorf("treePath(%q) accepted", bad)
		}
	}
	if p, err := treePath("a/b.yaml"); err != nil || p != "a/b.yaml" {
		t.Errorf("treePath(a/b.yaml) = %q, %v", p, err)
	}
}

var gitconfigRemote = gitRemoteConfig("origin", "https://github.com/example-org/fleet")

func gitRemoteConfig(name, url string) config.RemoteConfig {
	return config.RemoteConfig{Name: name, URLs: []string{url}}
}
