package diff_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// gitRepo is a copy of testdata/fleet committed with go-git, then changed
// commit by commit.
type gitRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	n    int
}

func newFleetRepo(t *testing.T) *gitRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fleet")
	src := filepath.Join(testutil.RepoRoot(t), "testdata", "fleet")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &gitRepo{t: t, dir: dir, repo: r}
	return g
}

// write changes worktree files; "" removes one.
func (g *gitRepo) write(files map[string]string) {
	g.t.Helper()
	for rel, content := range files {
		p := filepath.Join(g.dir, filepath.FromSlash(rel))
		if content == "" {
			if err := os.Remove(p); err != nil {
				g.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
}

// commit writes the files and commits everything, returning the hash.
func (g *gitRepo) commit(msg string, files map[string]string) string {
	g.t.Helper()
	g.write(files)
	wt, err := g.repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		g.t.Fatal(err)
	}
	// Removed files: AddWithOptions(All) stages deletions too.
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Date(2025, 1, 1, 0, g.n, 0, 0, time.UTC)}
	g.n++
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		g.t.Fatal(err)
	}
	return h.String()
}
