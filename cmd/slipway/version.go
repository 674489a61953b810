package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/validate"
)

func newVersionCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print slipway's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(s.out, "slipway %s (%s, Kubernetes schemas %s)\n", version, runtime.Version(), validate.SchemaVersion())
			return err
		},
	}
}
