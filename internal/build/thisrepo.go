package build

import (
	"context"
	"errors"
	"fmt"
	"sync"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// revisionEntry is one commit of this repository other than the checked
// out one, opened from the Git objects once per run.
type revisionEntry struct {
	once sync.Once
	repo *source.Repository
	err  error
}

// gitRefOf is the ref a GitRepository asks for, without credentials.
func gitRefOf(gr *sourcev1.GitRepository) source.GitRef {
	ref := source.GitRef{URL: gr.Spec.URL}
	if r := gr.Spec.Reference; r != nil {
		ref.Branch, ref.Tag, ref.SemVer, ref.Commit, ref.Name = r.Branch, r.Tag, r.SemVer, r.Commit, r.Name
	}
	return ref
}

// headCommit is the commit the repository being built is (HEAD of the
// worktree, or the revision it was opened at); "" when it is not a Git
// repository.
func (b *Builder) headCommit() (string, error) {
	b.headOnce.Do(func() { b.head, b.headErr = b.opts.Repo.HeadCommit() })
	return b.head, b.headErr
}

// thisRepoTree returns the files a GitRepository naming this repository
// holds. The root source (the one the cluster was bootstrapped from) is
// always the worktree: that is what a CI run checks, and on a feature
// branch the root names the branch Flux follows, not the checkout (see
// rootRefFinding). Any other GitRepository reads its own ref: the worktree
// when the ref is the checked-out commit, that commit's Git objects when
// the local repository has them (a full-history CI checkout does), a fetch
// otherwise — never the worktree for another commit.
func (b *Builder) thisRepoTree(ctx context.Context, reg *sourceRegistry, key string) (*sourceTree, error) {
	gr := reg.gitRepos[key]
	ignore := ""
	if gr != nil && gr.Spec.Ignore != nil {
		ignore = *gr.Spec.Ignore
	}
	worktree := &sourceTree{repo: b.opts.Repo, ignore: ignore}
	if key == reg.rootRef || gr == nil || b.opts.Repo.GitDir == "" {
		return worktree, nil
	}
	head, err := b.headCommit()
	if err != nil {
		return nil, fmt.Errorf("reading the checked-out commit: %w", err)
	}
	local, err := source.ResolveLocalRef(b.opts.Repo.GitDir, gitRefOf(gr))
	var notLocal *source.RefNotLocalError
	switch {
	case errors.As(err, &notLocal):
		if b.opts.Git == nil {
			return nil, fmt.Errorf("%w, and fetching is disabled", err)
		}
		return b.gitTree(ctx, reg, gr)
	case err != nil:
		return nil, err
	case local.Commit == head:
		return worktree, nil
	}
	repo, err := b.revision(local.Commit)
	if err != nil {
		return nil, err
	}
	return &sourceTree{name: fmt.Sprintf("GitRepository/%s/%s@%s", gr.Namespace, gr.Name, local.Revision), repo: repo, ignore: ignore}, nil
}

// revision opens a commit of this repository from its Git objects, once
// per run; Close removes what it wrote.
func (b *Builder) revision(commit string) (*source.Repository, error) {
	b.mu.Lock()
	e, ok := b.revisions[commit]
	if !ok {
		e = &revisionEntry{}
		b.revisions[commit] = e
	}
	b.mu.Unlock()
	e.once.Do(func() {
		e.repo, e.err = source.OpenRevision(b.opts.Repo.GitDir, commit)
		if e.err == nil {
			e.repo.MaxFileSize, e.repo.MaxDocuments = b.opts.Repo.MaxFileSize, b.opts.Repo.MaxDocuments
		}
	})
	return e.repo, e.err
}

// closeRevisions removes the trees revision wrote. Call with b.mu held.
func (b *Builder) closeRevisions() error {
	var errs []error
	for _, e := range b.revisions {
		if e.repo != nil {
			errs = append(errs, e.repo.Close())
		}
	}
	b.revisions = map[string]*revisionEntry{}
	return errors.Join(errs...)
}

// rootRefFinding says, when the root GitRepository follows another commit
// than the one checked out, which one Flux reads: slipway built the
// checkout (what a pull request or a push to a feature branch proposes),
// while the cluster applies the ref once the change reaches it.
func rootRefFinding(b *Builder, st *clusterState) []result.Finding {
	gr := st.reg.gitRepos[st.reg.rootRef]
	if gr == nil || b.opts.Repo.GitDir == "" {
		return nil
	}
	head, err := b.headCommit()
	if err != nil || head == "" {
		return nil
	}
	ref := gitRefOf(gr)
	local, err := source.ResolveLocalRef(b.opts.Repo.GitDir, ref)
	var follows string
	switch {
	case err != nil:
		follows = fmt.Sprintf("%s, which the local repository does not hold", ref.Describe())
	case local.Commit == head:
		return nil
	default:
		follows = fmt.Sprintf("%s (%s)", ref.Describe(), local.Revision)
	}
	return []result.Finding{{Severity: result.SeverityInfo, Check: "source", ClusterPath: st.path, Origin: st.reg.origins[st.reg.rootRef],
		Message: fmt.Sprintf("GitRepository %s/%s follows %s; slipway built the checked-out commit %s from the worktree, which Flux reads only once it is on that ref",
			gr.Namespace, gr.Name, follows, shortHash(head))}}
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
