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
	"github.com/slipwayhq/slipway/internal/validate"
)

// Options configure Run.
type Options struct {
	// Cluster is where the records are read and the paths deployed.
	Cluster *cluster.Cluster
	// Checkout is the repository as checked out (source.OpenWorktree).
	Checkout *source.Repository
	// Paths are the cluster paths to reconcile.
	Paths []string
	// ToHead reconciles to the checkout instead of the recorded commit.
	ToHead bool
	// DriftOnly compares with the cluster (server-side dry-run) and
	// changes nothing.
	DriftOnly bool
	// Build are the build options; Repo is set per commit.
	Build build.RunOptions
	// Checks validate each build; an invalid Kustomization is not deployed
	// (nor what depends on it). Nil skips validation.
	Checks []validate.Check
	// Deploy are the deploy options (lock, prune, wait, observer…);
	// DryRun, DriftFields and Revision.Commit are set by Run.
	// Revision.Ancestry defaults to the checkout's history.
	Deploy deploy.Options
	// Built, when set, is called once every path is built and validated,
	// before anything is deployed: a front end registers the builds'
	// secret values with its masker there, before progress is printed.
	Built func([]*result.ClusterBuild)
}

// Run reconciles each cluster path of o.Paths: picks its commit, builds
// it, validates it, and deploys it (or, DriftOnly, dry-runs it), noting
// which fields had drifted. Failures of one path, cancellation included,
// are in its result; the error is for what stops the whole run (no
// cluster, a build that could not start).
func Run(ctx context.Context, o Options) (*result.Reconcile, error) {
	if o.Cluster == nil {
		return nil, errors.New("reconcile: no cluster connection")
	}
	ts := Resolve(ctx, TargetOptions{Cluster: o.Cluster, Checkout: o.Checkout, Paths: o.Paths, ToHead: o.ToHead})
	defer ts.Close()
	res := &result.Reconcile{Head: ts.Head, DriftOnly: o.DriftOnly}
	builds, err := buildAll(ctx, o, ts)
	if err != nil {
		return res, err
	}
	for _, path := range o.Paths {
		pr := &result.PathReconcile{Path: path, Target: ts.ByPath[path], Build: builds[path]}
		res.Paths = append(res.Paths, pr)
		switch {
		case pr.Target.Err != nil:
			pr.Fail(pr.Target.Err)
		case pr.Build == nil:
			pr.Fail(fmt.Errorf("%s was not built", path))
		case ctx.Err() != nil:
			// Cancelled: start no other deploy.
			pr.Fail(fmt.Errorf("not started: %w", context.Cause(ctx)))
		default:
			deployPath(ctx, o, pr)
		}
	}
	// A cancellation is in the paths not started: the result is still
	// reported.
	return res, nil
}

// buildAll builds and validates every path that has a target: from the
// checkout's files when its target is the checkout, from its commit's tree
// otherwise.
func buildAll(ctx context.Context, o Options, ts *Targets) (map[string]*result.ClusterBuild, error) {
	var fromCheckout []string
	for _, p := range o.Paths {
		if ts.FromCheckout(p) {
			fromCheckout = append(fromCheckout, p)
		}
	}
	var builds []*result.ClusterBuild
	if len(fromCheckout) > 0 {
		bo := o.Build
		bo.Repo = o.Checkout
		var err error
		if builds, err = build.BuildPaths(ctx, fromCheckout, bo); err != nil {
			return nil, err
		}
	}
	more, err := ts.Build(ctx, o.Build)
	if err != nil {
		return nil, err
	}
	builds = append(builds, more...)
	byPath := map[string]*result.ClusterBuild{}
	for _, cb := range builds {
		if o.Checks != nil {
			validate.Run(cb, o.Checks)
		}
		byPath[cb.Path] = cb
	}
	if o.Built != nil {
		o.Built(builds)
	}
	return byPath, nil
}

// deployPath deploys one built path at its target commit. As apply: an
// invalid Kustomization is not deployed, nor what depends on it; errors
// outside any Kustomization stop the whole path.
func deployPath(ctx context.Context, o Options, pr *result.PathReconcile) {
	if o.Checks != nil {
		if unowned := validate.Gate(pr.Build); len(unowned) > 0 {
			pr.Deploy = validate.NotDeployed(pr.Path, unowned)
			return
		}
	}
	d := deploy.New(o.Cluster, DeployOptions(o.Deploy, o.Checkout, pr.Target.Commit, o.DriftOnly))
	pr.Deploy = d.Deploy(ctx, pr.Build)
	pr.Drift = d.Drifted(pr.Path)
}

// DeployOptions are a reconcile's deploy options for one path: opts with
// the commit recorded, drift fields noted before they are reverted, and a
// dry-run when only drift is asked for. A reconcile of the recorded commit
// passes the order check by construction; one to the checkout is checked
// against the record as any deploy.
func DeployOptions(opts deploy.Options, checkout *source.Repository, commit string, driftOnly bool) deploy.Options {
	opts.DryRun = driftOnly
	opts.DriftFields = true
	opts.Revision.Commit = commit
	if opts.Revision.Ancestry == nil && checkout != nil {
		opts.Revision.Ancestry = source.NewAncestry(checkout.Root)
	}
	return opts
}
