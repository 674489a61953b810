package source

import (
	"errors"
	"fmt"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// LocalRef is a GitRepository's ref resolved in the local repository.
type LocalRef struct {
	// Commit is the full hash the ref names.
	Commit string
	// Revision is the revision as source-controller spells it
	// (main@sha1:…, v1.0.0@sha1:…, sha1:…).
	Revision string
}

// RefNotLocalError says the local repository does not hold the commit a
// ref names: it has to be fetched.
type RefNotLocalError struct {
	Ref string
	Err error
}

func (e *RefNotLocalError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s is not in the local repository: %v", e.Ref, e.Err)
	}
	return e.Ref + " is not in the local repository"
}

func (e *RefNotLocalError) Unwrap() error { return e.Err }

// Describe names a ref the way source-controller chooses it: commit, then
// name, then semver, then tag, then branch (default master).
func (r GitRef) Describe() string {
	switch {
	case r.Commit != "":
		return "commit " + r.Commit
	case r.Name != "":
		return "reference " + r.Name
	case r.SemVer != "":
		return "semver " + r.SemVer
	case r.Tag != "":
		return "tag " + r.Tag
	case r.Branch != "":
		return "branch " + r.Branch
	}
	return "branch master"
}

// ResolveLocalRef resolves a ref of a GitRepository naming this repository
// in the Git objects already on disk, without any network access. A CI
// checkout with full history (actions/checkout, fetch-depth: 0) holds the
// remote's branches as refs/remotes/origin/*, so a branch is looked for
// locally first, then there; tags as refs/tags/*. An answer of
// *RefNotLocalError means the ref must be fetched.
func ResolveLocalRef(gitDir string, ref GitRef) (LocalRef, error) {
	g, err := openGit(gitDir)
	if err != nil {
		return LocalRef{}, err
	}
	switch {
	case ref.Commit != "":
		return localCommit(g, ref)
	case ref.Name != "":
		return localNamed(g, ref, plumbing.ReferenceName(ref.Name))
	case ref.SemVer != "":
		return localSemVer(g, ref)
	case ref.Tag != "":
		return localNamed(g, ref, plumbing.NewTagReferenceName(ref.Tag))
	}
	branch := ref.Branch
	if branch == "" {
		branch = "master"
	}
	return localNamed(g, ref, plumbing.NewBranchReferenceName(branch))
}

// localCommit finds a commit by hash. source-controller checks the commit
// out whatever branch is named with it, so the branch only decorates the
// revision.
func localCommit(g *git.Repository, ref GitRef) (LocalRef, error) {
	h := plumbing.NewHash(ref.Commit)
	if len(ref.Commit) != 40 || h.IsZero() {
		return LocalRef{}, fmt.Errorf("commit %q: not a full SHA-1 hash", ref.Commit)
	}
	if _, err := g.CommitObject(h); err != nil {
		return LocalRef{}, &RefNotLocalError{Ref: ref.Describe(), Err: err}
	}
	rev := "sha1:" + h.String()
	if ref.Branch != "" {
		rev = ref.Branch + "@" + rev
	}
	return LocalRef{Commit: h.String(), Revision: rev}, nil
}

// localNamed resolves a full reference name; a branch missing under
// refs/heads is looked for under refs/remotes/origin.
func localNamed(g *git.Repository, ref GitRef, name plumbing.ReferenceName) (LocalRef, error) {
	candidates := []plumbing.ReferenceName{name}
	if name.IsBranch() {
		candidates = append(candidates, plumbing.NewRemoteReferenceName("origin", name.Short()))
	}
	for _, n := range candidates {
		r, err := g.Reference(n, true)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			return LocalRef{}, fmt.Errorf("reading %s: %w", n, err)
		}
		c, err := peel(g, r.Hash())
		if err != nil {
			return LocalRef{}, &RefNotLocalError{Ref: ref.Describe(), Err: err}
		}
		return LocalRef{Commit: c.Hash.String(), Revision: name.Short() + "@sha1:" + c.Hash.String()}, nil
	}
	return LocalRef{}, &RefNotLocalError{Ref: ref.Describe()}
}

// localSemVer picks the highest local tag matching the constraint, as
// source-controller does among the remote's tags.
func localSemVer(g *git.Repository, ref GitRef) (LocalRef, error) {
	c, err := semver.NewConstraint(ref.SemVer)
	if err != nil {
		return LocalRef{}, fmt.Errorf("semver %q: %w", ref.SemVer, err)
	}
	tags, err := g.Tags()
	if err != nil {
		return LocalRef{}, fmt.Errorf("listing tags: %w", err)
	}
	var best *semver.Version
	var bestName plumbing.ReferenceName
	_ = tags.ForEach(func(r *plumbing.Reference) error {
		v, err := semver.NewVersion(r.Name().Short())
		if err == nil && c.Check(v) && (best == nil || v.GreaterThan(best)) {
			best, bestName = v, r.Name()
		}
		return nil
	})
	if best == nil {
		return LocalRef{}, &RefNotLocalError{Ref: ref.Describe(), Err: errors.New("no local tag matches")}
	}
	return localNamed(g, ref, bestName)
}

// peel follows annotated tags to the commit they name.
func peel(g *git.Repository, h plumbing.Hash) (*object.Commit, error) {
	for range 10 {
		if c, err := g.CommitObject(h); err == nil {
			return c, nil
		}
		t, err := g.TagObject(h)
		if err != nil {
			return nil, fmt.Errorf("%s is neither a commit nor a tag in the local objects: %w", h, err)
		}
		h = t.Target
	}
	return nil, fmt.Errorf("%s: tags nested too deep", h)
}

// HeadCommit is the commit the repository's files are: the revision an
// OpenRevision repository was read from, or the worktree's HEAD. "" when
// the repository is not a Git repository.
func (r *Repository) HeadCommit() (string, error) {
	if r.Revision != "" {
		return r.Revision, nil
	}
	if r.GitDir == "" {
		return "", nil
	}
	return ResolveRevision(r.GitDir, "HEAD")
}
