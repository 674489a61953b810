package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// committedFleet copies the example fleet into a new Git repository with
// one commit, and returns its directory.
func committedFleet(t *testing.T) string {
	t.Helper()
	src, _ := fleet(t)
	dir := filepath.Join(t.TempDir(), "fleet")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := wt.Commit("base", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiffExitCodes(t *testing.T) {
	_, key := fleet(t)
	dir := committedFleet(t)
	args := func(extra ...string) []string {
		return append([]string{"diff", "--repo", dir, "--base", "HEAD", "--sops-age-key-file", key, "--exit-code"}, extra...)
	}

	r := runCLI(t, nil, args()...)
	if r.code != 0 || !strings.Contains(r.out, "✔ clusters/staging unchanged") {
		t.Fatalf("no change: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = runCLI(t, nil, "plan", "--repo", dir, "--base", "HEAD", "--head", "HEAD")
	if r.code != 0 || strings.TrimSpace(r.out) != "[]" {
		t.Fatalf("plan of nothing: exit %d %q %s", r.code, r.out, r.err)
	}

	editFile(t, filepath.Join(dir, "apps/staging/podinfo-settings.yaml"), "\n", "\n# edited\n")
	editFile(t, filepath.Join(dir, "apps/base/redis/deployment.yaml"), "replicas: 1", "replicas: 2")
	r = runCLI(t, nil, args("-o", "json")...)
	var res struct {
		Clusters []struct {
			Path, Action string
		}
	}
	if r.code != 2 || json.Unmarshal([]byte(r.out), &res) != nil || len(res.Clusters) != 2 || res.Clusters[0].Action != "changed" {
		t.Fatalf("a change: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// Without --exit-code a change is not a failure.
	if r = runCLI(t, nil, "diff", "--repo", dir, "--base", "HEAD", "--sops-age-key-file", key); r.code != 0 {
		t.Fatalf("without --exit-code: exit %d", r.code)
	}
	out := filepath.Join(t.TempDir(), "diff.md")
	r = runCLI(t, nil, args("-o", "markdown", "--output-file", out)...)
	md, _ := os.ReadFile(out)
	if r.code != 2 || r.out != "" || !strings.Contains(string(md), "```diff") {
		t.Fatalf("--output-file: exit %d, stdout %q, file:\n%s", r.code, r.out, md)
	}

	// A build error in the head: exit 1, with file and line.
	editFile(t, filepath.Join(dir, "apps/base/redis/configmap.yaml"), "metadata:\n", "metadata:\n  name: dup\n  name: dup\n")
	r = runCLI(t, nil, args()...)
	if r.code != 1 || !strings.Contains(r.out, "apps/base/redis/configmap.yaml:") {
		t.Fatalf("a broken head: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	r = runCLI(t, nil, "diff", "--repo", dir)
	if r.code != 2 || !strings.Contains(r.err, "--base is required") {
		t.Fatalf("no --base: exit %d %s", r.code, r.err)
	}
	r = runCLI(t, nil, "diff", "--repo", dir, "--base", "no-such-rev")
	if r.code != 1 || !strings.Contains(r.err, "no-such-rev") {
		t.Fatalf("a bad revision: exit %d %s", r.code, r.err)
	}
}
