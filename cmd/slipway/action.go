package main

import (
	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/action"
)

func newActionCmd(s streams, getenv env) *cobra.Command {
	return &cobra.Command{
		Use:   "action",
		Short: "Run as the GitHub Action: inputs from INPUT_*, the event from GITHUB_EVENT_PATH",
		Long: `The entrypoint of slipway's container action. It reads the action's inputs
and the workflow's event, validates every cluster path, diffs pull requests
and deploys pushes, and reports with check runs (or commit statuses), pull
request comments, annotations, the job summary and step outputs.
Exit 1 when validation or a deploy failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := action.Run(cmd.Context(), action.Options{Getenv: getenv, Stdout: s.out, Version: version})
			if out.ExitCode != 0 {
				return &exitError{code: out.ExitCode}
			}
			return nil
		},
	}
}
