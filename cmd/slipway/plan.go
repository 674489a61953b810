package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/diff"
)

func newPlanCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var df diffFlags
	var output string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "List the cluster paths whose build output changes between two revisions",
		Long: `Print the cluster paths whose build output differs between --base and --head,
as a JSON array fit for a GitHub Actions matrix, e.g.
["clusters/production","clusters/staging"]. A change to a shared base marks
every cluster path that uses it; a change to nothing deployable marks none.
Cluster paths none of whose files changed are decided without building them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "json" && output != "text" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want json or text", output)}
			}
			if df.head == "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("--head is required")}
			}
			opts, err := df.runOptions(&rf, getenv)
			if err != nil {
				return err
			}
			plan, err := diff.RunPlan(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if output == "text" {
				if len(plan.Paths) > 0 {
					fmt.Fprintln(s.out, strings.Join(plan.Paths, "\n"))
				}
				return nil
			}
			data, err := json.Marshal(plan.Paths)
			if err != nil {
				return err
			}
			fmt.Fprintln(s.out, string(data))
			return nil
		},
	}
	rf.register(cmd)
	df.register(cmd, "head revision")
	cmd.Flags().StringVarP(&output, "output", "o", "json", "output format: json (an array of cluster paths) or text (one per line)")
	return cmd
}
