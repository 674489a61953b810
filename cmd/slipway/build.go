package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

func newBuildCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var sf selectFlags
	var output, outputDir, revision string
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build every cluster path into the objects Flux would apply",
		Long: `Build every cluster path with Flux's semantics: the cluster path as the root
Kustomization of a bootstrapped cluster, then every Flux Kustomization found in
an output, recursively. Secret values are always redacted in the output.

With --revision, a commit of the repository is built from its Git objects
(as diff builds its base), whatever the worktree holds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "yaml" && output != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want yaml or json", output)}
			}
			sel, err := sf.selection()
			if err != nil {
				return err
			}
			builds, err := buildRevisionOrWorktree(cmd.Context(), &rf, getenv, revision)
			if err != nil {
				return err
			}
			if builds, err = selectBuilds(sel, builds); err != nil {
				return err
			}
			if outputDir != "" {
				if err := report.BuildDir(outputDir, builds); err != nil {
					return err
				}
			} else if output == "json" {
				if err := report.BuildJSON(s.out, builds); err != nil {
					return err
				}
			} else if err := report.BuildYAML(s.out, builds); err != nil {
				return err
			}
			return buildFailures(s, builds)
		},
	}
	rf.register(cmd)
	rf.registerKubeVersion(cmd)
	sf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().StringVar(&outputDir, "output-dir", "", "write one YAML file per Kustomization under this directory")
	cmd.Flags().StringVar(&revision, "revision", "", "build this commit, branch, tag or expression (HEAD~1) from the Git objects instead of the worktree")
	return cmd
}

// buildRevisionOrWorktree builds the worktree, or with a revision that
// commit, through the worktree-free build diff uses for its base (same
// build cache).
func buildRevisionOrWorktree(ctx context.Context, rf *repoFlags, getenv env, revision string) ([]*result.ClusterBuild, error) {
	if revision == "" {
		return rf.buildAll(ctx, getenv)
	}
	opts, err := (&diffFlags{}).runOptions(rf, getenv)
	if err != nil {
		return nil, err
	}
	return diff.BuildRevision(ctx, opts, revision)
}

// buildFailures reports Kustomizations that failed to build,
// HelmReleases and ResourceSets that could not be rendered and Flux
// objects that could not be read (every error a build finds) on stderr,
// and turns them into exit code 1: the output printed is then incomplete.
// Warnings the build raised, and a count of its info findings, go to
// stderr too: the objects alone do not say that a Kustomization built
// nothing or kept encrypted values.
func buildFailures(s streams, builds []*result.ClusterBuild) error {
	failed := 0
	for _, cb := range builds {
		m := report.NewMasker(cb.Sensitive)
		for _, f := range cb.Findings {
			switch {
			case f.Severity == result.SeverityError:
				fmt.Fprintln(s.err, m.Mask(report.FindingLine(f)))
				failed++
			case f.Severity == result.SeverityWarning:
				fmt.Fprintln(s.err, m.Mask(report.FindingLine(f)))
			}
		}
		if line := report.InfoSummary(cb); line != "" {
			fmt.Fprintln(s.err, line)
		}
	}
	if failed > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d kustomization(s), HelmRelease(s) or ResourceSet(s) failed to build", failed)}
	}
	return nil
}
