package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// GitRepo is a Git repository made for a test from a fixture directory:
// fixtures cannot hold a .git of their own, so tests give them a history.
type GitRepo struct {
	t    *testing.T
	Dir  string
	Repo *git.Repository
	n    int
}

// NewGitRepo copies the fixture directory src into a temporary directory,
// makes it a Git repository on branch main whose origin remote is
// originURL, and returns it without any commit.
func NewGitRepo(t *testing.T, src, originURL string) *GitRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{originURL}}); err != nil {
		t.Fatal(err)
	}
	return &GitRepo{t: t, Dir: dir, Repo: r}
}

// Write writes a file (slash-separated path relative to the repository).
func (g *GitRepo) Write(rel, content string) {
	g.t.Helper()
	p := filepath.Join(g.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), fs.FileMode(0o644)); err != nil {
		g.t.Fatal(err)
	}
}

// Commit commits everything in the worktree on the current branch.
func (g *GitRepo) Commit(msg string) plumbing.Hash {
	g.t.Helper()
	wt, err := g.Repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		g.t.Fatal(err)
	}
	g.n++
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Date(2025, 1, 1, 0, g.n, 0, 0, time.UTC)}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		g.t.Fatal(err)
	}
	return h
}

// SetRef points a full reference name (refs/tags/x, refs/remotes/origin/y)
// at a commit.
func (g *GitRepo) SetRef(name string, h plumbing.Hash) {
	g.t.Helper()
	if err := g.Repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		g.t.Fatal(err)
	}
}

// Branch creates a branch at HEAD and checks it out, keeping the worktree.
func (g *GitRepo) Branch(name string) {
	g.t.Helper()
	wt, err := g.Repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true, Keep: true}); err != nil {
		g.t.Fatal(err)
	}
}
