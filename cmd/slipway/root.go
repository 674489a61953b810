package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/redact"
)

// streams are the process's standard streams, injected so tests never
// touch the real ones.
type streams struct {
	out, err io.Writer
	in       io.Reader
}

// env reads environment variables; tests pass a map-backed one.
type env func(string) string

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, s streams, getenv env) int {
	root := newRootCmd(s, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(s.err, "✗", redact.URLs(ee.err.Error()))
		}
		return ee.code
	}
	// A URL's credentials (a HelmRepository's http://user:pass@…) reach
	// error texts verbatim from the libraries.
	fmt.Fprintln(s.err, "✗", redact.URLs(err.Error()))
	return exitFailed
}

func newRootCmd(s streams, getenv env) *cobra.Command {
	root := &cobra.Command{
		Use:           "slipway",
		Short:         "GitOps for Kubernetes from CI: build, validate and deploy Flux repositories",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetIn(s.in)
	root.AddCommand(
		newBuildCmd(s, getenv),
		newImagesCmd(s, getenv),
		newValidateCmd(s, getenv),
		newApplyCmd(s, getenv),
		newReconcileCmd(s, getenv),
		newUninstallCmd(s, getenv),
		newStatusCmd(s, getenv),
		newCheckCmd(s, getenv),
		newBootstrapCmd(s, getenv),
		newVersionCmd(s),
		newDiffCmd(s, getenv),
		newPlanCmd(s, getenv),
		newActionCmd(s, getenv),
	)
	return root
}
