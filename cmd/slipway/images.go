package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/images"
	"github.com/slipwayhq/slipway/internal/report"
)

func newImagesCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var sf selectFlags
	var output string
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List the container images every cluster path deploys",
		Long: `Build every cluster path and list the container images of its Pods,
Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs
(containers, init and ephemeral containers), rendered HelmReleases included,
per cluster path, Kustomization and HelmRelease: deduplicated and sorted.
-o json has the union as "images", for a GitHub Actions matrix (a pre-pull
job). Exits 1 when something failed to build: its images are unknown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text or json", output)}
			}
			sel, err := sf.selection()
			if err != nil {
				return err
			}
			builds, err := rf.buildAll(cmd.Context(), getenv)
			if err != nil {
				return err
			}
			if builds, err = selectBuilds(sel, builds); err != nil {
				return err
			}
			list := images.FromBuilds(builds)
			var buf bytes.Buffer
			if output == "json" {
				err = report.ImagesJSON(&buf, list)
			} else {
				err = report.ImagesText(&buf, list)
			}
			if err != nil {
				return err
			}
			// Build errors may quote values that came from Secrets.
			var sensitive []string
			for _, cb := range builds {
				sensitive = append(sensitive, cb.Sensitive...)
			}
			if _, err := s.out.Write([]byte(report.NewMasker(sensitive).Mask(buf.String()))); err != nil {
				return err
			}
			return buildFailures(s, builds)
		},
	}
	rf.register(cmd)
	rf.registerKubeVersion(cmd)
	sf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
