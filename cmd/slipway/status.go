package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/report"
)

func newStatusCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var kf kubeFlags
	var output string
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
--path ones. Only get and list are used: read-only credentials (the "view"
role plus reading Leases and ConfigMaps in slipway-system) are enough; what
they may not read is shown as not readable.

Exit 0 when everything is healthy, 1 when a last deploy failed or something is
not healthy, 2 on usage errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text or json", output)}
			}
			cluster, err := kf.connect(getenv)
			if err != nil {
				return err
			}
			opts.ClusterPaths = rf.paths
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
	kf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
