package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/validate"
)

func newApplyCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var kf kubeFlags
	var output string
	var skipValidation, allowRollback bool
	opts := deploy.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Build cluster paths and deploy them: server-side apply, prune, wait",
		Long: `Build each cluster path, then deploy it with Flux's semantics: Kustomizations in
dependsOn order (independent ones in parallel), staged server-side apply with
field manager "slipway", prune from an ApplySet-compatible inventory, and
health checks. A Lease per cluster path queues overlapping runs.

Safety beyond Flux: nothing is applied or pruned for a Kustomization that
fails to build; an empty build prunes nothing without --allow-empty; a
Kustomization that vanished from the repository is an error without
--prune-removed; objects owned by another ApplySet, Kustomization or Helm are
a conflict without --adopt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDeployFlags(opts, output); err != nil {
				return err
			}
			ctx := cmd.Context()
			cluster, err := kf.connect(ctx, s, getenv)
			if err != nil {
				return err
			}
			if rf.kubeVersion == "" {
				// Render HelmReleases for the cluster they are installed on.
				if rf.kubeVersion, err = cluster.ServerVersion(); err != nil {
					return err
				}
			}
			if err := rf.addClusterAPIVersions(cluster); err != nil {
				return err
			}
			// valuesFrom and secretRef objects created in the cluster out of
			// band are found there, as helm-controller finds them.
			rf.cluster = cluster.ObjectLookup(ctx)
			builds, err := rf.buildAll(ctx, getenv)
			if err != nil {
				return err
			}
			// Validate before touching the cluster: an invalid Kustomization
			// is not deployed (nor what depends on it), the others are.
			masker := report.MaskerFor(builds)
			blocked := map[string][]result.Finding{}
			if !skipValidation {
				checks, err := validate.DefaultChecks(validate.Options{KubernetesVersion: rf.kubeVersion})
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				for _, cb := range builds {
					validate.Run(cb, checks)
					for _, f := range cb.Findings {
						if f.Severity == result.SeverityError {
							fmt.Fprintln(s.err, masker.Mask(report.FindingLine(f)))
						}
					}
					if unowned := validate.Gate(cb); len(unowned) > 0 {
						blocked[cb.Path] = unowned
					}
				}
			}
			if run := getenv("GITHUB_RUN_ID"); run != "" {
				opts.Holder = fmt.Sprintf("%s/%s/actions/runs/%s", getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), run)
			}
			opts.Tooling = "slipway/" + version
			opts.Version = version
			// The commit checked out is what this deploys: recorded in the
			// cluster, and refused if the cluster runs a newer one.
			opts.Revision = deploy.Revision{Commit: source.HeadCommit(rf.repo), Ancestry: source.NewAncestry(rf.repo), Rollback: allowRollback}
			opts.Observer = deploy.ProgressLog(masker.Mask, func(line string) { fmt.Fprintln(s.err, line) })
			d := deploy.New(cluster, opts)
			var deploys []*result.ClusterDeploy
			for _, cb := range builds {
				if fs := blocked[cb.Path]; len(fs) > 0 {
					deploys = append(deploys, validate.NotDeployed(cb.Path, fs))
					continue
				}
				deploys = append(deploys, d.Deploy(ctx, cb))
			}
			if output == "json" {
				err = report.DeployJSON(s.out, deploys, masker)
			} else {
				err = report.DeployText(s.out, deploys, masker)
			}
			if err != nil {
				return err
			}
			return applyExit(deploys)
		},
	}
	rf.register(cmd)
	rf.registerKubeVersion(cmd)
	kf.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	registerDeployFlags(fl, &opts)
	fl.BoolVar(&opts.DryRun, "dry-run", false, "server-side dry-run: report what would change, change nothing")
	fl.BoolVar(&opts.AllowEmpty, "allow-empty", false, "let a Kustomization that builds to nothing prune what it deployed")
	fl.BoolVar(&opts.Adopt, "adopt", false, "take over objects owned by another ApplySet, Kustomization or Helm")
	fl.BoolVar(&opts.PruneRemoved, "prune-removed", false, "delete what vanished Kustomizations deployed (otherwise an error)")
	fl.BoolVar(&allowRollback, "allow-rollback", false, "deploy even when the cluster path runs a newer commit than the one checked out (a rollback)")
	fl.BoolVar(&skipValidation, "skip-validation", false, "deploy without validating first (an invalid Kustomization is otherwise not deployed)")
	return cmd
}

// applyExit is exitFailed when a cluster path failed, else exitOutOfOrder
// when one was refused for running a newer commit.
func applyExit(deploys []*result.ClusterDeploy) error {
	code := exitOK
	for _, cd := range deploys {
		switch {
		case cd.Failed():
			return &exitError{code: exitFailed}
		case cd.OutOfOrder:
			code = exitOutOfOrder
		}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}
