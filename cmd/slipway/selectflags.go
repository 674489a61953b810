package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
)

// selectFlags restrict a command's output to some Kustomizations and
// HelmReleases (build.Selection).
type selectFlags struct {
	kustomizations, helmReleases []string
}

func (f *selectFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.kustomizations, "kustomization", nil, "report only this Flux Kustomization, NAMESPACE/NAME (repeatable; everything is still built)")
	fl.StringArrayVar(&f.helmReleases, "helmrelease", nil, "report only this HelmRelease, NAMESPACE/NAME (repeatable; everything is still built)")
}

// selection parses the flags; a malformed name is a usage error.
func (f *selectFlags) selection() (build.Selection, error) {
	var s build.Selection
	parse := func(flag string, in []string) ([]result.KustomizationRef, error) {
		var out []result.KustomizationRef
		for _, v := range in {
			r, err := build.ParseRef(v)
			if err != nil {
				return nil, &exitError{code: exitUsage, err: fmt.Errorf("--%s %w", flag, err)}
			}
			out = append(out, r)
		}
		return out, nil
	}
	var err error
	if s.Kustomizations, err = parse("kustomization", f.kustomizations); err != nil {
		return s, err
	}
	s.HelmReleases, err = parse("helmrelease", f.helmReleases)
	return s, err
}

// selectBuilds restricts builds to the selection; a name no cluster path
// has is a usage error (a typo must not pass as "nothing to report").
func selectBuilds(sel build.Selection, builds []*result.ClusterBuild) ([]*result.ClusterBuild, error) {
	if err := sel.Check(builds); err != nil {
		return nil, usageIfUnknown(err)
	}
	return sel.Apply(builds), nil
}

// usageIfUnknown turns an unknown selected name into a usage error.
func usageIfUnknown(err error) error {
	var unknown *build.UnknownSelectionError
	if errors.As(err, &unknown) {
		return &exitError{code: exitUsage, err: err}
	}
	return err
}
