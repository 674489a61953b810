package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Author attributes bootstrap's commits.
type Author struct {
	Name, Email string
}

// gitRepo is a clone of the configuration repository in a temporary
// directory.
type gitRepo struct {
	dir    string
	repo   *git.Repository
	auth   transport.AuthMethod
	branch string
	empty  bool
}

// cloneRepo clones url's branch with the token. An empty repository, or one
// without the branch, gives a fresh repository whose first commit creates
// the branch.
func cloneRepo(ctx context.Context, url, branch, token string) (*gitRepo, error) {
	dir, err := os.MkdirTemp("", "slipway-bootstrap-")
	if err != nil {
		return nil, err
	}
	// GitHub accepts any user name with a token as the password.
	auth := &githttp.BasicAuth{Username: "x-access-token", Password: token}
	g := &gitRepo{dir: dir, auth: auth, branch: branch}
	r, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL: url, Auth: auth, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true,
	})
	switch {
	case err == nil:
		g.repo = r
		return g, nil
	case errors.Is(err, transport.ErrEmptyRemoteRepository) || isMissingBranch(err):
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		r, err = git.PlainInitWithOptions(dir, &git.PlainInitOptions{
			InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
		})
		if err != nil {
			return nil, fmt.Errorf("initialising a local repository: %w", err)
		}
		if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
			return nil, err
		}
		g.repo, g.empty = r, true
		return g, nil
	default:
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("cloning %s (branch %s): %w", url, branch, err)
	}
}

// isMissingBranch reports a clone of a branch the remote does not have,
// with go-git's typed errors.
func isMissingBranch(err error) bool {
	var nf git.NoMatchingRefSpecError
	return errors.As(err, &nf) || errors.Is(err, plumbing.ErrReferenceNotFound)
}

func (g *gitRepo) close() { _ = os.RemoveAll(g.dir) }

// write writes files that are missing or differ and returns the paths it
// changed. keep lists files written only when absent: the user owns them
// once they exist (the RBAC binding, say).
func (g *gitRepo) write(files map[string]string, keep map[string]bool) ([]string, error) {
	var changed []string
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(g.dir, filepath.FromSlash(name))
		old, err := os.ReadFile(p)
		switch {
		case err == nil && (keep[name] || string(old) == files[name]):
			continue
		case err != nil && !os.IsNotExist(err):
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return nil, err
		}
		changed = append(changed, name)
	}
	return changed, nil
}

// exists reports whether a repository file exists.
func (g *gitRepo) exists(name string) bool {
	_, err := os.Stat(filepath.Join(g.dir, filepath.FromSlash(name)))
	return err == nil
}

// read returns a repository file's content.
func (g *gitRepo) read(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(g.dir, filepath.FromSlash(name)))
}

// commitAndPush commits the paths and pushes the branch.
func (g *gitRepo) commitAndPush(ctx context.Context, paths []string, message string, author Author, now time.Time) (string, error) {
	wt, err := g.repo.Worktree()
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		if _, err := wt.Add(p); err != nil {
			return "", fmt.Errorf("staging %s: %w", p, err)
		}
	}
	sig := &object.Signature{Name: author.Name, Email: author.Email, When: now}
	hash, err := wt.Commit(message, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	ref := plumbing.NewBranchReferenceName(g.branch)
	err = g.repo.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		Auth:       g.auth,
		RefSpecs:   []config.RefSpec{config.RefSpec(ref.String() + ":" + ref.String())},
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("pushing to %s: %w", g.branch, err)
	}
	return hash.String(), nil
}

func sortStrings(s []string) { sort.Strings(s) }
