package diff

import (
	"context"
	"fmt"
	"slices"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// LiveOptions say what a live diff compares: the head build of RunOptions
// against a connected cluster, and, when Base is set, the cluster against
// what the base revision applied (drift).
type LiveOptions struct {
	RunOptions
	// Cluster is the connected cluster; the front end connects, since
	// how to reach it (kubeconfig flags, action inputs) is theirs.
	Cluster *cluster.Cluster
}

// RunLive compares the head build with the cluster: what a server-side
// apply and prune would change. With opts.Base, drift is reported too:
// objects whose live state differs from what the base revision applied.
// Nothing is written to the cluster (a server-side dry-run).
func RunLive(ctx context.Context, opts LiveOptions) (*Result, error) {
	run, err := forCluster(ctx, opts)
	if err != nil {
		return nil, err
	}
	d := deploy.New(opts.Cluster, liveDeployOptions())
	res, err := compareLive(ctx, run, d)
	if err != nil || run.Base == "" {
		return res, err
	}
	return addDrift(ctx, run, d, res)
}

// liveDeployOptions: a live diff only ever dry-runs.
func liveDeployOptions() deploy.Options {
	o := deploy.DefaultOptions()
	o.DryRun = true
	return o
}

// forCluster builds as apply builds for this cluster: HelmReleases render
// for the cluster's version (unless one was given) and see the API
// versions it serves, and what they refer to and the repository lacks is
// read from the cluster, as helm-controller finds it.
func forCluster(ctx context.Context, opts LiveOptions) (RunOptions, error) {
	version, err := opts.Cluster.ServerVersion()
	if err != nil {
		return RunOptions{}, err
	}
	served, err := opts.Cluster.APIVersions()
	if err != nil {
		return RunOptions{}, fmt.Errorf("reading the API versions the cluster serves: %w", err)
	}
	run := opts.RunOptions
	inner, fromCluster := run.BuildOptions, opts.Cluster.ObjectLookup(ctx)
	run.BuildOptions = func(repo *source.Repository) build.Options {
		o := inner(repo)
		o.Helm = withCluster(o.Helm, version, served)
		o.External = build.ChainLookups(o.External, fromCluster)
		// A Secret a controller makes is read from the cluster, and
		// missing there fails as in Flux.
		o.ExternalIsCluster = true
		return o
	}
	return run, nil
}

// compareLive builds the head and compares, per cluster path, the live
// objects with the server-side dry-run of applying the build.
func compareLive(ctx context.Context, opts RunOptions, d *deploy.Deployer) (*Result, error) {
	builds, err := BuildHead(ctx, opts)
	if err != nil {
		return nil, err
	}
	var live, desired []*result.ClusterBuild
	for _, cb := range builds {
		st, err := d.LiveDiff(ctx, cb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cb.Path, err)
		}
		// Build errors stay on the head side, where they happened.
		st.Desired.Findings = append(cb.Findings, st.Desired.Findings...)
		live, desired = append(live, st.Live), append(desired, st.Desired)
	}
	if err := opts.Select.Check(live, desired); err != nil {
		return nil, err
	}
	live, desired = opts.Select.Apply(live), opts.Select.Apply(desired)
	cmp := opts.Compare
	cmp.Base, cmp.Head = "cluster", headName(opts.Head)
	return Compare(live, desired, cmp)
}

// addDrift compares the cluster with what the base revision applied and
// adds the cluster paths that differ to res.
func addDrift(ctx context.Context, opts RunOptions, d *deploy.Deployer, res *Result) (*Result, error) {
	bases, err := BuildRevision(ctx, opts, opts.Base)
	if err != nil {
		return nil, err
	}
	var applied, now []*result.ClusterBuild
	for _, cb := range bases {
		st, err := d.Drift(ctx, cb)
		if err != nil {
			return nil, fmt.Errorf("%s: drift: %w", cb.Path, err)
		}
		applied, now = append(applied, st.Desired), append(now, st.Live)
	}
	applied, now = opts.Select.Apply(applied), opts.Select.Apply(now)
	drift, err := Compare(applied, now, Options{Base: opts.Base, Head: "cluster"})
	if err != nil {
		return nil, err
	}
	res.DriftBase = opts.Base
	res.Drift = append(res.Drift, driftedPaths(drift)...)
	return res, nil
}

// withCluster renders charts for the cluster: its version unless one was
// given (a given version is what the user asked to check against), and
// the API versions it serves added to those given.
func withCluster(o helm.Options, version string, served []string) helm.Options {
	if o.KubeVersion == "" {
		o.KubeVersion = version
	}
	o.APIVersions = append(slices.Clip(o.APIVersions), served...)
	return o
}

// headName names the head side of a live diff: a revision, or the
// worktree when none was given.
func headName(head string) string {
	if head == "" {
		return "worktree"
	}
	return head
}

// driftedPaths are the cluster paths of a drift comparison that differ
// from what was applied, or could not be built: unchanged ones are not
// drift.
func driftedPaths(drift *Result) []*ClusterDiff {
	var out []*ClusterDiff
	for _, cd := range drift.Clusters {
		if cd.Action != Unchanged || len(cd.Errors) > 0 {
			out = append(out, cd)
		}
	}
	return out
}
