package source

import (
	"fmt"
)

// HeadCommit returns the commit checked out in repoDir, "" when repoDir is
// not in a Git repository: the revision a deploy of the worktree records.
func HeadCommit(repoDir string) string {
	g, err := openGit(repoDir)
	if err != nil {
		return ""
	}
	h, err := g.Head()
	if err != nil {
		return ""
	}
	return h.Hash().String()
}

// Ancestry answers whether one commit of repoDir's history is an ancestor
// of another. A commit the local history lacks (a shallow clone, a commit
// of another branch not fetched) is an error: the answer is unknown, not
// "no".
type Ancestry struct {
	repoDir string
}

// NewAncestry returns an Ancestry over repoDir's history.
func NewAncestry(repoDir string) *Ancestry { return &Ancestry{repoDir: repoDir} }

// IsAncestor reports whether commit a is an ancestor of commit b (a commit
// is not its own ancestor).
func (a *Ancestry) IsAncestor(older, newer string) (bool, error) {
	if older == newer {
		return false, nil
	}
	g, err := openGit(a.repoDir)
	if err != nil {
		return false, err
	}
	co, err := resolveCommit(g, a.repoDir, older)
	if err != nil {
		return false, err
	}
	cn, err := resolveCommit(g, a.repoDir, newer)
	if err != nil {
		return false, err
	}
	ok, err := co.IsAncestor(cn)
	if err != nil {
		return false, fmt.Errorf("walking the history from %s: %w", newer, err)
	}
	return ok, nil
}
