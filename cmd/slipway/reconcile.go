package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/reconcile"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/validate"
)

func newReconcileCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var kf kubeFlags
	var output string
	var driftOnly, toHead bool
	opts := deploy.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "reconcile [cluster paths...]",
		Short: "Redeploy the commit each cluster path runs, reverting drift (or, --drift-only, report it)",
		Long: `Continuous GitOps without a controller, for cron, a Kubernetes CronJob or any
CI system. For each cluster path, read the deploy record the cluster keeps
(the commit of the last deploy), build that commit from the repository's Git
objects (not the files on disk, unless it is the commit checked out) and
redeploy it with apply's safety (lock, validation gating, prune safety),
reverting whatever was changed by hand. What had drifted (object and fields;
Secret values never) is reported.

The recorded commit is deployed, not the checkout: a hand edit is reverted
without also shipping what was merged since. --to-head deploys the checkout
instead. A cluster path never deployed gets the checkout. A recorded commit
missing from the local repository (a shallow clone) fails that path;
nothing else is deployed in its place.

--drift-only compares with the cluster (server-side dry-run, which needs the
right to patch) and changes nothing.

Cluster paths are the arguments and --path; default every directory under
clusters/.

Exit 0 when every path is reconciled (drift reverted or none), 1 when one
failed, 2 on usage errors, 3 when --drift-only found drift, 4 when a path
runs a newer commit than --to-head would deploy.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDeployFlags(opts, output); err != nil {
				return err
			}
			rf.paths = append(rf.paths, args...)
			ro, err := reconcileOptions(cmd, s, &rf, &kf, getenv)
			if err != nil {
				return err
			}
			ro.ToHead, ro.DriftOnly = toHead, driftOnly
			if run := getenv("GITHUB_RUN_ID"); run != "" {
				opts.Holder = fmt.Sprintf("%s/%s/actions/runs/%s", getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), run)
			}
			opts.Tooling = "slipway/" + version
			opts.Version = version
			// Progress and findings are printed masked with the builds'
			// secret values, known once built.
			masker := report.NewMasker(nil)
			opts.Observer = deploy.ProgressLog(func(m string) string { return masker.Mask(m) }, func(line string) { fmt.Fprintln(s.err, line) })
			ro.Deploy = opts
			ro.Built = func(builds []*result.ClusterBuild) {
				masker = report.MaskerFor(builds)
				for _, cb := range builds {
					for _, f := range cb.Findings {
						if f.Severity == result.SeverityError {
							fmt.Fprintln(s.err, masker.Mask(report.FindingLine(f)))
						}
					}
				}
			}
			res, err := reconcile.Run(cmd.Context(), ro)
			if err != nil {
				return err
			}
			if output == "json" {
				err = report.ReconcileJSON(s.out, res, masker)
			} else {
				err = report.ReconcileText(s.out, res, masker)
			}
			if err != nil {
				return err
			}
			return reconcileExit(res)
		},
	}
	rf.register(cmd)
	rf.registerKubeVersion(cmd)
	kf.register(cmd)
	fl := cmd.Flags()
	fl.Lookup("path").Usage = "a cluster path to reconcile (repeatable, as the arguments; default: every directory under clusters/)"
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	registerDeployFlags(fl, &opts)
	fl.BoolVar(&driftOnly, "drift-only", false, "report what differs from the recorded commit; change nothing (exit 3 when something does)")
	fl.BoolVar(&toHead, "to-head", false, "reconcile to the commit checked out, not the one the cluster records as deployed")
	return cmd
}

// reconcileOptions connect to the cluster and prepare the build as apply
// does: HelmReleases rendered for the cluster's version and API versions,
// objects the repository lacks read from the cluster, validation against
// the cluster's version.
func reconcileOptions(cmd *cobra.Command, s streams, rf *repoFlags, kf *kubeFlags, getenv env) (reconcile.Options, error) {
	var o reconcile.Options
	cluster, err := kf.connect(cmd.Context(), s, getenv)
	if err != nil {
		return o, err
	}
	if rf.kubeVersion == "" {
		if rf.kubeVersion, err = cluster.ServerVersion(); err != nil {
			return o, err
		}
	}
	if err := rf.addClusterAPIVersions(cluster); err != nil {
		return o, err
	}
	rf.cluster = cluster.ObjectLookup(cmd.Context())
	checkout, paths, err := rf.open()
	if err != nil {
		return o, err
	}
	build, err := rf.runOptions(checkout, getenv)
	if err != nil {
		return o, err
	}
	checks, err := validate.DefaultChecks(validate.Options{KubernetesVersion: rf.kubeVersion})
	if err != nil {
		return o, &exitError{code: exitUsage, err: err}
	}
	return reconcile.Options{Cluster: cluster, Checkout: checkout, Paths: paths, Build: build, Checks: checks}, nil
}

// reconcileExit is exitFailed when a path failed, exitOutOfOrder when one
// was refused for running a newer commit, exitChanges when --drift-only
// found drift (as diff --exit-code), else nil.
func reconcileExit(res *result.Reconcile) error {
	if res.Failed() {
		return &exitError{code: exitFailed}
	}
	for _, p := range res.Paths {
		if p.Deploy != nil && p.Deploy.OutOfOrder {
			return &exitError{code: exitOutOfOrder}
		}
	}
	if res.DriftOnly && res.Drifted() {
		// The output says what drifted; the code says that it did.
		return &exitError{code: exitChanges}
	}
	return nil
}
