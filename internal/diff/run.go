package diff

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// RunOptions say which revisions to compare and how to build them.
type RunOptions struct {
	// RepoDir is the Git repository (its worktree root).
	RepoDir string
	// Base is the base revision; Head the head one, "" for the worktree.
	Base, Head string
	// Paths are the cluster paths; none means every directory under
	// clusters/ of either revision.
	Paths []string
	// MaxFileSize bounds repository files (0: source.DefaultMaxFileSize).
	MaxFileSize int64
	// BuildOptions returns the build options for a revision's repository
	// (decryption keys, Git fetcher, remote bases); Repo and Reuse are set
	// by the run.
	BuildOptions func(repo *source.Repository) build.Options
	// Full builds the head revision completely instead of reusing the base
	// build's output of Kustomizations no changed file reaches.
	Full bool
	// Compare tunes the comparison.
	Compare Options
}

// revisions are the two repositories of a run, open.
type revisions struct {
	// root is the Git repository's worktree root.
	root       string
	base, head *source.Repository
	paths      []string
	// in says which revisions (0 base, 1 head) have each cluster path.
	in map[string][2]bool
}

func (r *revisions) Close() {
	_ = r.base.Close()
	_ = r.head.Close()
}

func open(opts RunOptions) (*revisions, error) {
	if opts.Base == "" {
		return nil, errors.New("no base revision given")
	}
	root, err := source.GitRoot(opts.RepoDir)
	if err != nil {
		return nil, err
	}
	base, err := source.OpenRevision(root, opts.Base)
	if err != nil {
		return nil, err
	}
	var head *source.Repository
	if opts.Head == "" {
		head, err = source.OpenWorktree(root)
	} else {
		head, err = source.OpenRevision(root, opts.Head)
	}
	if err != nil {
		_ = base.Close()
		return nil, err
	}
	if opts.MaxFileSize > 0 {
		base.MaxFileSize, head.MaxFileSize = opts.MaxFileSize, opts.MaxFileSize
	}
	revs := &revisions{root: root, base: base, head: head, in: map[string][2]bool{}}
	if err := revs.clusterPaths(opts.Paths); err != nil {
		revs.Close()
		return nil, err
	}
	return revs, nil
}

// clusterPaths finds the cluster paths of both revisions: a path that
// exists in one of them only was added or removed.
func (r *revisions) clusterPaths(want []string) error {
	var errs [2]error
	for i, repo := range []*source.Repository{r.base, r.head} {
		if len(want) == 0 {
			paths, err := repo.ClusterPaths(nil)
			if err != nil {
				errs[i] = err
				continue
			}
			for _, p := range paths {
				e := r.in[p]
				e[i] = true
				r.in[p] = e
			}
			continue
		}
		for _, p := range want {
			clean, err := source.CleanRelative(p)
			if err != nil {
				return err
			}
			e := r.in[clean]
			if _, err := repo.ClusterPaths([]string{clean}); err == nil {
				e[i] = true
			}
			r.in[clean] = e
		}
	}
	if len(want) == 0 && errs[0] != nil && errs[1] != nil {
		return errs[1]
	}
	for _, p := range want {
		clean, _ := source.CleanRelative(p)
		if e := r.in[clean]; !e[0] && !e[1] {
			return &source.PathError{Path: p, Reason: "does not exist in either revision"}
		}
	}
	for p := range r.in {
		r.paths = append(r.paths, p)
	}
	sort.Strings(r.paths)
	return nil
}

func (r *revisions) pathsIn(i int) []string {
	var out []string
	for _, p := range r.paths {
		if r.in[p][i] {
			out = append(out, p)
		}
	}
	return out
}

func buildWith(ctx context.Context, opts RunOptions, repo *source.Repository, reuse *build.Reuse, paths []string) ([]*result.ClusterBuild, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	bo := build.DefaultOptions(repo)
	if opts.BuildOptions != nil {
		bo = opts.BuildOptions(repo)
	}
	bo.Repo, bo.Reuse = repo, reuse
	b, err := build.New(bo)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	builds := b.BuildAll(ctx, paths)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	return builds, nil
}

// Stats say how much work a run did, for tests and benchmarks.
type Stats struct {
	// Reused counts Kustomization builds of the head taken from the base.
	Reused int64 `json:"reused"`
	// HeadPaths counts the cluster paths the head revision was built for.
	HeadPaths int `json:"headPaths"`
}

// Run builds the base and head revisions and compares them.
func Run(ctx context.Context, opts RunOptions) (*Result, Stats, error) {
	revs, err := open(opts)
	if err != nil {
		return nil, Stats{}, err
	}
	defer revs.Close()
	rec := build.NewRecorded()
	base, err := buildWith(ctx, opts, revs.base, &build.Reuse{Record: rec}, revs.pathsIn(0))
	if err != nil {
		return nil, Stats{}, err
	}
	reuse := &build.Reuse{}
	if !opts.Full {
		changes, err := source.ChangedFiles(revs.root, opts.Base, opts.Head)
		if err != nil {
			return nil, Stats{}, err
		}
		reuse = &build.Reuse{Previous: rec, Changed: changes}
	}
	headPaths := revs.pathsIn(1)
	head, err := buildWith(ctx, opts, revs.head, reuse, headPaths)
	if err != nil {
		return nil, Stats{}, err
	}
	cmp := opts.Compare
	cmp.Base, cmp.Head = opts.Base, opts.Head
	res, err := Compare(base, head, cmp)
	return res, Stats{Reused: reuse.Reused(), HeadPaths: len(headPaths)}, err
}

// BuildHead builds only the head revision (the worktree when Head is ""),
// for comparisons with something other than a base revision (the cluster).
func BuildHead(ctx context.Context, opts RunOptions) ([]*result.ClusterBuild, error) {
	root, err := source.GitRoot(opts.RepoDir)
	if err != nil {
		return nil, err
	}
	var repo *source.Repository
	if opts.Head == "" {
		repo, err = source.OpenWorktree(root)
	} else {
		repo, err = source.OpenRevision(root, opts.Head)
	}
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	if opts.MaxFileSize > 0 {
		repo.MaxFileSize = opts.MaxFileSize
	}
	paths, err := repo.ClusterPaths(opts.Paths)
	if err != nil {
		return nil, err
	}
	return buildWith(ctx, opts, repo, nil, paths)
}
