package action

import (
	"context"
	"strings"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/source"
)

// DifferOptions configure NewDiffer.
type DifferOptions struct {
	// Git fetches GitRepository sources of other repositories.
	Git *source.GitFetcher
	// OCI pulls OCIRepository sources of Kustomizations.
	OCI *source.OCIFetcher
	// Bucket fetches Bucket sources of Kustomizations.
	Bucket *source.BucketFetcher
	// Helm: the chart cache and target version of HelmRelease rendering.
	Helm helm.Options
	// External finds ConfigMaps and Secrets the repository lacks (the
	// external-objects input); never the cluster: a diff is offline.
	External helm.Lookup
	// CacheDir holds reusable builds, shared with the action's own build
	// and the CLI's (cache-dir/builds); "" builds everything.
	CacheDir string
	// CacheVersion names the binary that wrote the cache.
	CacheVersion string
	// RootSource names the root source when the repository does not (the
	// root-source input); nil: from the repository.
	RootSource *build.RootSource
	// Compare is the diff's noise control and context lines.
	Compare diff.Options
	// Select restricts the diff to some Kustomizations and HelmReleases
	// (the kustomization and helmrelease inputs), as the CLI's diff does;
	// a name neither revision has is a *build.UnknownSelectionError.
	Select build.Selection
}

// NewDiffer returns the Differ of internal/diff: both revisions built from
// Git objects, compared object by object, rendered by report.DiffMarkdown.
func NewDiffer(o DifferOptions) Differ { return &gitDiffer{opts: o} }

type gitDiffer struct{ opts DifferOptions }

func (g *gitDiffer) runOptions(repoDir, base, head string, keys build.SOPSKeys, paths []string) (diff.RunOptions, error) {
	dec, err := build.NewSOPSDecryptor(keys)
	if err != nil {
		return diff.RunOptions{}, err
	}
	return diff.RunOptions{
		RepoDir: repoDir, Base: base, Head: head, Paths: paths,
		CacheDir: g.opts.CacheDir, CacheVersion: g.opts.CacheVersion, Compare: g.opts.Compare,
		Select: g.opts.Select,
		BuildOptions: func(repo *source.Repository) build.Options {
			o := build.DefaultOptions(repo)
			o.Decryptor, o.Git, o.OCI, o.Bucket, o.Helm, o.External = dec, g.opts.Git, g.opts.OCI, g.opts.Bucket, g.opts.Helm, g.opts.External
			o.RootSource = g.opts.RootSource
			return o
		},
	}, nil
}

func (g *gitDiffer) ChangedPaths(ctx context.Context, req PlanRequest) ([]string, error) {
	opts, err := g.runOptions(req.RepoDir, req.Base, req.Head, withAge(req.SOPS, req.AgeKey), req.Paths)
	if err != nil {
		return nil, err
	}
	// The plan decides what to deploy: a change the diff's noise control
	// hides from reviewers (a chart label) is still a change to apply.
	opts.Compare = diff.Options{}
	// Nor does a selection narrow it: a deploy is of whole cluster paths.
	opts.Select = build.Selection{}
	plan, err := diff.RunPlan(ctx, opts)
	if err != nil {
		return nil, err
	}
	return plan.Paths, nil
}

func (g *gitDiffer) Diff(ctx context.Context, req DiffRequest) ([]*DiffResult, error) {
	opts, err := g.runOptions(req.RepoDir, req.Base, req.Head, withAge(req.SOPS, req.AgeKey), req.Paths)
	if err != nil {
		return nil, err
	}
	res, _, err := diff.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	var out []*DiffResult
	for _, path := range req.Paths {
		one := res.ForPath(path)
		if one == nil {
			out = append(out, &DiffResult{Path: path})
			continue
		}
		var b strings.Builder
		title := "slipway: changes to " + path
		if !g.opts.Select.Empty() {
			// A reader must not take a selected diff for the whole change.
			title += " (only " + selectionText(g.opts.Select) + ")"
		}
		if err := report.DiffMarkdown(&b, one, report.MarkdownOptions{Title: title, MaxBytes: req.MaxBytes, FullDiff: "the job summary"}); err != nil {
			return nil, err
		}
		out = append(out, &DiffResult{Path: path, Changed: one.HasChanges() || one.HasNewErrors(), Markdown: b.String(), ImageChanges: one.ImageChanges(), Result: one})
	}
	return out, nil
}

// withAge completes the SOPS keys of a request with its age key.
func withAge(k build.SOPSKeys, age string) build.SOPSKeys {
	k.Age = age
	return k
}
