package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

func newStatusCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var kf kubeFlags
	var output string
	var drift bool
	opts := deploy.DefaultStatusOptions()
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what runs on the cluster: last deploy per cluster path, health of every Kustomization",
		Long: `Read what slipway's deploys left on the cluster, with no controller to ask:
per cluster path the last deploy (revision, when, by which run, slipway
version, outcome), and per Kustomization its inventory checked now with kstatus
(objects Current, InProgress, Failed, NotFound) and its HelmReleases' Helm
releases (revision and status).

Every cluster path with an inventory or a deploy record is shown, or only the
--path ones.

--drift also builds the revision each cluster path runs (from the Git
repository --repo, as diff --base does) and compares it with the cluster by
server-side dry-run, which needs the right to patch: objects changed by hand
since the deploy are named. Without it, drift is not checked. Only get and list are used: read-only credentials (the "view"
role plus reading Leases and ConfigMaps in slipway-system) are enough; what
they may not read is shown as not readable.

Exit 0 when everything is healthy, 1 when a last deploy failed or something is
not healthy, 2 on usage errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text or json", output)}
			}
			cluster, err := kf.connect(cmd.Context(), s, getenv)
			if err != nil {
				return err
			}
			opts.ClusterPaths = rf.paths
			if drift {
				if opts.Drift, err = driftCheck(cmd.Context(), &rf, cluster, getenv); err != nil {
					return err
				}
			}
			st, err := deploy.ReadStatus(cmd.Context(), cluster, opts)
			if err != nil {
				return err
			}
			if output == "json" {
				err = report.StatusJSON(s.out, st)
			} else {
				err = report.StatusText(s.out, st, time.Now())
			}
			if err != nil {
				return err
			}
			if !st.Healthy() {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	rf.register(cmd)
	rf.registerKubeVersion(cmd)
	kf.register(cmd)
	fl := cmd.Flags()
	fl.Lookup("path").Usage = "only this cluster path (repeatable; default: every cluster path deployed to the cluster)"
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	fl.BoolVar(&drift, "drift", false, "build the deployed revision of each cluster path from --repo and report objects that differ from it in the cluster")
	return cmd
}

// driftCheck builds revisions as diff does, HelmReleases rendered for this
// cluster and reading what the repository lacks from it, as apply does.
func driftCheck(ctx context.Context, rf *repoFlags, cluster *cluster.Cluster, getenv env) (func(context.Context, string, string) *result.DriftStatus, error) {
	if rf.kubeVersion == "" {
		v, err := cluster.ServerVersion()
		if err != nil {
			return nil, err
		}
		rf.kubeVersion = v
	}
	run, err := (&diffFlags{}).runOptions(rf, getenv)
	if err != nil {
		return nil, err
	}
	inner, fromCluster := run.BuildOptions, cluster.ObjectLookup(ctx)
	run.BuildOptions = func(repo *source.Repository) build.Options {
		o := inner(repo)
		o.External = build.ChainLookups(o.External, fromCluster)
		o.ExternalIsCluster = true
		return o
	}
	dopts := deploy.DefaultOptions()
	dopts.DryRun = true
	d := deploy.New(cluster, dopts)
	check := diff.DriftCheck{Run: run, Drifter: func(ctx context.Context, cb *result.ClusterBuild) (live, applied *result.ClusterBuild, err error) {
		st, err := d.Drift(ctx, cb)
		if err != nil {
			return nil, nil, err
		}
		return st.Live, st.Desired, nil
	}}
	return check.Check, nil
}
