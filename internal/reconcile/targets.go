package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// TargetOptions say how to pick each cluster path's commit.
type TargetOptions struct {
	// Cluster holds the deploy records; needed unless ToHead or Revision.
	Cluster *cluster.Cluster
	// Checkout is the repository as checked out (source.OpenWorktree):
	// its HEAD is "the checkout", its Git objects hold the other commits.
	Checkout *source.Repository
	// Paths are the cluster paths to reconcile.
	Paths []string
	// ToHead deploys the checkout whatever the cluster records.
	ToHead bool
	// Revision, when set, is the commit (or ref) every path deploys: a
	// rollback asked for by a person.
	Revision string
}

// Targets are the commits the cluster paths are reconciled to, with the
// trees of those other than the checkout opened from the Git objects.
// Close them once built.
type Targets struct {
	// Head is the checkout's commit; "" when the repository is not a Git
	// checkout (every target then has an error).
	Head string
	// ByPath is each path's target.
	ByPath map[string]result.ReconcileTarget
	paths  []string
	revs   revisions
}

// Resolve picks each path's target: the explicit revision, the checkout
// (ToHead), else the commit its deploy record names. Failures are per path
// (Target.Err): a record that cannot be read, a commit not in the local
// repository.
func Resolve(ctx context.Context, o TargetOptions) *Targets {
	t := &Targets{ByPath: map[string]result.ReconcileTarget{}, paths: o.Paths}
	head, err := o.Checkout.HeadCommit()
	gitDir := o.Checkout.GitDir
	if err == nil && gitDir == "" {
		// Below a checkout's root: the checkout's commit, as apply
		// records it (source.HeadCommit looks upwards for .git).
		head = source.HeadCommit(o.Checkout.Root)
	}
	if err != nil || head == "" {
		t.failAll(&NotCheckoutError{Err: err})
		return t
	}
	t.Head = head
	open := func(rev string) (string, error) {
		if gitDir == "" {
			return "", &NotRootError{Dir: o.Checkout.Root, Commit: rev}
		}
		return t.revs.open(gitDir, rev)
	}
	switch {
	case o.Revision != "":
		commit, err := open(o.Revision)
		for _, p := range o.Paths {
			rt := result.ReconcileTarget{Commit: commit, Reason: result.TargetRevision}
			if err != nil {
				rt = result.ReconcileTarget{Reason: result.TargetRevision, Err: missing(o.Revision, err)}
			}
			t.ByPath[p] = rt
		}
	case o.ToHead:
		for _, p := range o.Paths {
			t.ByPath[p] = result.ReconcileTarget{Commit: head, Reason: result.TargetHead}
		}
	case o.Cluster == nil:
		t.failAll(errors.New("no cluster connection: the deploy records cannot be read"))
	default:
		for _, p := range o.Paths {
			rec, err := deploy.ReadRecord(ctx, o.Cluster, p)
			if err != nil {
				t.ByPath[p] = result.ReconcileTarget{Reason: result.TargetRecorded, Err: err}
				continue
			}
			t.ByPath[p] = selectTarget(rec, head, func(c string) error {
				_, err := open(c)
				return err
			})
		}
	}
	return t
}

func (t *Targets) failAll(err error) {
	for _, p := range t.paths {
		t.ByPath[p] = result.ReconcileTarget{Err: err}
	}
}

// Other is the commit path is deployed at when it is not the checkout's
// (built from the Git objects); "" otherwise.
func (t *Targets) Other(path string) string {
	if t == nil {
		return ""
	}
	rt := t.ByPath[path]
	if rt.Err != nil || rt.Commit == "" || rt.Commit == t.Head {
		return ""
	}
	return rt.Commit
}

// FromCheckout reports whether path is built from the checkout's files:
// its target is the checkout and nothing failed.
func (t *Targets) FromCheckout(path string) bool {
	rt := t.ByPath[path]
	return rt.Err == nil && rt.Commit == t.Head
}

// Build builds the paths deployed at another commit than the checkout,
// each from its commit's tree, with opts (the checkout's build options,
// Repo replaced).
func (t *Targets) Build(ctx context.Context, opts build.RunOptions) ([]*result.ClusterBuild, error) {
	if t == nil {
		return nil, nil
	}
	byCommit := map[string][]string{}
	var order []string
	for _, p := range t.paths {
		c := t.Other(p)
		if c == "" {
			continue
		}
		if len(byCommit[c]) == 0 {
			order = append(order, c)
		}
		byCommit[c] = append(byCommit[c], p)
	}
	var out []*result.ClusterBuild
	for _, c := range order {
		repo := t.revs.byCommit[c]
		if repo == nil {
			return out, fmt.Errorf("commit %s was not opened", Short(c))
		}
		o := opts
		o.Repo = repo
		builds, err := build.BuildPaths(ctx, byCommit[c], o)
		if err != nil {
			return out, fmt.Errorf("building commit %s: %w", Short(c), err)
		}
		out = append(out, builds...)
	}
	return out, nil
}

// Close removes the trees written.
func (t *Targets) Close() {
	if t != nil {
		t.revs.close()
	}
}

// revisions are the commits other than the checkout opened from the Git
// objects, once each.
type revisions struct {
	byCommit map[string]*source.Repository
	// byRev resolves what was asked (a ref) to its commit.
	byRev map[string]string
}

// open opens rev (a commit or ref) and returns its commit.
func (rs *revisions) open(gitDir, rev string) (string, error) {
	if c, ok := rs.byRev[rev]; ok {
		return c, nil
	}
	repo, err := source.OpenRevision(gitDir, rev)
	if err != nil {
		return "", err
	}
	if rs.byRev == nil {
		rs.byRev = map[string]string{}
		rs.byCommit = map[string]*source.Repository{}
	}
	rs.byRev[rev] = repo.Revision
	if old, ok := rs.byCommit[repo.Revision]; ok {
		_ = repo.Close()
		repo = old
	}
	rs.byCommit[repo.Revision] = repo
	return repo.Revision, nil
}

func (rs *revisions) close() {
	for _, repo := range rs.byCommit {
		_ = repo.Close()
	}
}
