package diff

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"

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
	// MaxDocuments bounds the YAML documents one Kustomization reads (0:
	// source.DefaultMaxDocuments).
	MaxDocuments int
	// BuildOptions returns the build options for a revision's repository
	// (decryption keys, Git fetcher, remote bases); Repo and Reuse are set
	// by the run.
	BuildOptions func(repo *source.Repository) build.Options
	// Full builds the head revision completely instead of reusing the base
	// build's output of Kustomizations no changed file reaches.
	Full bool
	// CacheDir, when set, is the on-disk build cache (build.BuildCache)
	// both revisions read and write: the base reuses what an earlier run
	// left (in CI, the last run on the base branch), the head reuses the
	// base. "" builds the base completely.
	CacheDir string
	// CacheVersion names the binary for the cache: a cache written by
	// another version is ignored.
	CacheVersion string
	// Compare tunes the comparison.
	Compare Options
	// Select restricts the comparison to some Kustomizations and
	// HelmReleases; both revisions are still built completely. A name
	// neither revision has is a *build.UnknownSelectionError.
	Select build.Selection
}

// revisions are the two repositories of a run, open.
type revisions struct {
	// root is the Git repository's worktree root.
	root string
	// key names the repository in the build cache: the worktree root with
	// symlinks resolved, as a worktree build (validate, apply) names it,
	// so those runs and this one share their cache files.
	key        string
	base, head *source.Repository
	paths      []string
	// in says which revisions (0 base, 1 head) have each cluster path.
	in map[string][2]bool
	// headFiles are the head's files with their Git hashes, when known
	// (a revision's tree, or the checked-out commit's, clean); nil means
	// the worktree, hashed when first needed.
	headFiles map[string]plumbing.Hash
}

func (r *revisions) Close() {
	_ = r.base.Close()
	_ = r.head.Close()
}

// changes lists the files that differ between the base and the head,
// from the file lists opening them gave (each tree is walked once).
func (r *revisions) changes() ([]source.FileChange, error) {
	if r.headFiles == nil {
		files, err := source.WorktreeFiles(r.root)
		if err != nil {
			return nil, fmt.Errorf("reading the worktree of %s: %w", r.root, err)
		}
		r.headFiles = files
	}
	return source.DiffFiles(r.base.Files(), r.headFiles), nil
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
	var headFiles map[string]plumbing.Hash
	switch rev, files, clean := checkedOut(root, opts.Head); {
	case opts.Head == "":
		head, err = source.OpenWorktree(root)
	case clean:
		// The head is what is checked out, unmodified (a CI checkout):
		// read the worktree instead of writing the tree out again.
		if head, err = source.OpenWorktree(root); err == nil {
			head.Revision, headFiles = rev, files
		}
	default:
		if head, err = source.OpenRevision(root, opts.Head); err == nil {
			headFiles = head.Files()
		}
	}
	if err != nil {
		_ = base.Close()
		return nil, err
	}
	if opts.MaxFileSize > 0 {
		base.MaxFileSize, head.MaxFileSize = opts.MaxFileSize, opts.MaxFileSize
	}
	if opts.MaxDocuments > 0 {
		base.MaxDocuments, head.MaxDocuments = opts.MaxDocuments, opts.MaxDocuments
	}
	revs := &revisions{root: root, key: cacheKey(root), base: base, head: head, in: map[string][2]bool{}, headFiles: headFiles}
	if err := revs.clusterPaths(opts.Paths); err != nil {
		revs.Close()
		return nil, err
	}
	return revs, nil
}

// checkedOut reports whether rev is the commit checked out in root with a
// worktree identical to it (no modified, added or removed file, ignored
// ones included), returning the commit and its files.
func checkedOut(root, rev string) (string, map[string]plumbing.Hash, bool) {
	if rev == "" {
		return "", nil, false
	}
	h, err := source.ResolveRevision(root, rev)
	if err != nil {
		return "", nil, false
	}
	if head, err := source.ResolveRevision(root, "HEAD"); err != nil || head != h {
		return "", nil, false
	}
	_, files, err := source.TreeFiles(root, h)
	if err != nil {
		return "", nil, false
	}
	wt, err := source.WorktreeFiles(root)
	if err != nil || len(source.DiffFiles(files, wt)) > 0 {
		return "", nil, false
	}
	return h, files, true
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

// cacheKey is the repository's root as source.OpenWorktree names it.
func cacheKey(root string) string {
	abs, err := filepath.Abs(root)
	if err != nil {
		return root
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// cache returns the build cache of one revision, nil without CacheDir.
func (o RunOptions) cache(repo *source.Repository, key string) *build.BuildCache {
	if o.CacheDir == "" {
		return nil
	}
	return &build.BuildCache{Dir: o.CacheDir, Repo: repo, Key: key, Version: o.CacheVersion}
}

// buildBase builds the base revision, taking what the build cache holds,
// and records its builds for the head. The cache is refreshed with this
// build: failing to write it fails nothing, it only saves time.
func buildBase(ctx context.Context, opts RunOptions, revs *revisions) ([]*result.ClusterBuild, *build.Reuse, error) {
	paths := revs.pathsIn(0)
	reuse := &build.Reuse{Record: build.NewRecorded()}
	bc := opts.cache(revs.base, revs.key)
	if bc != nil {
		reuse = bc.Load(paths)
	}
	builds, err := buildWith(ctx, opts, revs.base, reuse, paths)
	if err != nil {
		return nil, nil, err
	}
	if bc != nil {
		_ = bc.Save(reuse, paths)
	}
	return builds, reuse, nil
}

// The head's builds are not written back: cache files are per cluster
// path, so they would evict the base's — which the next diff of a pull
// request (same base) needs — and on a push the deploy that follows
// writes the head's builds anyway.

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
	// Cached counts Kustomization builds of the base taken from the
	// on-disk build cache.
	Cached int64 `json:"cached"`
}

// Run builds the base and head revisions and compares them.
func Run(ctx context.Context, opts RunOptions) (*Result, Stats, error) {
	revs, err := open(opts)
	if err != nil {
		return nil, Stats{}, err
	}
	defer revs.Close()
	base, baseReuse, err := buildBase(ctx, opts, revs)
	if err != nil {
		return nil, Stats{}, err
	}
	reuse := &build.Reuse{Record: build.NewRecorded()}
	if !opts.Full {
		changes, err := revs.changes()
		if err != nil {
			return nil, Stats{}, err
		}
		reuse.Previous, reuse.Changed = baseReuse.Record, changes
	}
	headPaths := revs.pathsIn(1)
	head, err := buildWith(ctx, opts, revs.head, reuse, headPaths)
	if err != nil {
		return nil, Stats{}, err
	}
	if err := opts.Select.Check(base, head); err != nil {
		return nil, Stats{}, err
	}
	base, head = opts.Select.Apply(base), opts.Select.Apply(head)
	cmp := opts.Compare
	cmp.Base, cmp.Head = opts.Base, opts.Head
	res, err := Compare(base, head, cmp)
	return res, Stats{Reused: reuse.Reused(), HeadPaths: len(headPaths), Cached: baseReuse.Reused()}, err
}

// BuildHead builds only the head revision (the worktree when Head is ""),
// for comparisons with something other than a base revision (the cluster).
func BuildHead(ctx context.Context, opts RunOptions) ([]*result.ClusterBuild, error) {
	return BuildRevision(ctx, opts, opts.Head)
}

// BuildRevision builds one revision ("" the worktree) of the cluster
// paths, through the build cache when CacheDir is set.
func BuildRevision(ctx context.Context, opts RunOptions, rev string) ([]*result.ClusterBuild, error) {
	root, err := source.GitRoot(opts.RepoDir)
	if err != nil {
		return nil, err
	}
	var repo *source.Repository
	if rev == "" {
		repo, err = source.OpenWorktree(root)
	} else {
		repo, err = source.OpenRevision(root, rev)
	}
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	if opts.MaxFileSize > 0 {
		repo.MaxFileSize = opts.MaxFileSize
	}
	if opts.MaxDocuments > 0 {
		repo.MaxDocuments = opts.MaxDocuments
	}
	paths, err := repo.ClusterPaths(opts.Paths)
	if err != nil {
		return nil, err
	}
	bc := opts.cache(repo, cacheKey(root))
	if bc == nil {
		return buildWith(ctx, opts, repo, nil, paths)
	}
	reuse := bc.Load(paths)
	builds, err := buildWith(ctx, opts, repo, reuse, paths)
	if err == nil {
		_ = bc.Save(reuse, paths)
	}
	return builds, err
}
