package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/validate"
)

func newValidateCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var sf selectFlags
	var output string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Build every cluster path and check the result, offline",
		Long: `Build every cluster path and run every check: schemas (built-in kinds for the
target Kubernetes version, custom resources against CRDs in the build, Flux
kinds against Flux's API types), duplicate objects, missing namespaces,
dependsOn targets and cycles, unresolved variables and undecryptable Secrets.
Exits 1 when any error is found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" && output != "html" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text, json or html", output)}
			}
			checks, err := validate.DefaultChecks(validate.Options{KubernetesVersion: rf.kubeVersion})
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			sel, err := sf.selection()
			if err != nil {
				return err
			}
			// Checks see everything (dependsOn targets, duplicates across
			// Kustomizations); the report is then restricted. Each cluster
			// path is checked as soon as it is built.
			builds, err := rf.buildAllThen(cmd.Context(), getenv, func(cb *result.ClusterBuild) { validate.Run(cb, checks) })
			if err != nil {
				return err
			}
			if builds, err = selectBuilds(sel, builds); err != nil {
				return err
			}
			switch output {
			case "json":
				err = report.FindingsJSON(s.out, builds)
			case "html":
				err = report.HTML(s.out, report.HTMLOptions{Builds: builds})
			default:
				err = report.FindingsText(s.out, builds)
			}
			if err != nil {
				return err
			}
			if c := report.Count(builds); c.Errors > 0 {
				return &exitError{code: exitFailed, err: fmt.Errorf("validation failed: %d error(s)", c.Errors)}
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or html (one self-contained page)")
	rf.registerKubeVersion(cmd)
	sf.register(cmd)
	return cmd
}
