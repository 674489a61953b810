package helm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// bootstrapRef is the GitRepository a bootstrapped cluster syncs from: it
// is always this repository.
const bootstrapRef = "flux-system/flux-system"

type rootSourceKey struct{}

// WithRootSource names the GitRepository (namespace/name) a cluster path is
// synced from, for the releases rendered with the context: a FluxInstance
// or --root-source may name another than flux-system/flux-system, and the
// operator creates it, so no GitRepository in the build output says so.
// It travels in the context because it belongs to one cluster path while
// a Renderer serves them all.
func WithRootSource(ctx context.Context, namespacedName string) context.Context {
	return context.WithValue(ctx, rootSourceKey{}, namespacedName)
}

func rootSourceOf(ctx context.Context) string {
	if s, ok := ctx.Value(rootSourceKey{}).(string); ok && s != "" {
		return s
	}
	return bootstrapRef
}

// gitChart loads a chart from a GitRepository: spec.chart.spec.chart is a
// path in the repository (a chart directory or a packaged .tgz). This
// repository is read in place; others are fetched with the GitFetcher.
// Like source-controller, the chart is packaged, and valuesFiles are
// relative to the repository root.
func (r *Renderer) gitChart(ctx context.Context, ns, name, chartPath string, lookup Lookup) (*chartArtifact, error) {
	srcErr := func(u, reason string, err error) error {
		return &SourceError{Kind: sourcev1.GitRepositoryKind, Namespace: ns, Name: name, URL: u, Reason: reason, Err: err}
	}
	gr := &sourcev1.GitRepository{}
	lookupErr := getSource(lookup, sourcev1.GitRepositoryKind, ns, name, gr)
	isBootstrap := ns+"/"+name == rootSourceOf(ctx)
	if lookupErr != nil && !isBootstrap {
		return nil, lookupErr
	}
	var (
		root     string
		fsys     filesys.FileSystem
		srcURL   = gr.Spec.URL
		thisRepo bool
	)
	switch {
	case r.opts.Repo != nil && (isBootstrap || (r.opts.Repo.IsThisRepository(gr.Spec.URL) && r.atCheckout(gr))):
		root, fsys, thisRepo = r.opts.Repo.Root, r.opts.Repo.FS, true
		if srcURL == "" {
			srcURL = "this repository"
		}
		// The chart is looked up on disk directly below.
		if err := r.opts.Repo.Materialize(); err != nil {
			return nil, srcErr(srcURL, "reading this repository", err)
		}
	case isBootstrap:
		return nil, srcErr(srcURL, "this repository is not available to the renderer", nil)
	case r.opts.Git == nil:
		return nil, srcErr(srcURL, "fetching other Git repositories is not enabled", nil)
	default:
		ref := source.GitRef{URL: gr.Spec.URL}
		if gr.Spec.Reference != nil {
			ref.Branch, ref.Tag, ref.SemVer = gr.Spec.Reference.Branch, gr.Spec.Reference.Tag, gr.Spec.Reference.SemVer
			ref.Commit, ref.Name = gr.Spec.Reference.Commit, gr.Spec.Reference.Name
		}
		if gr.Spec.SecretRef != nil && gr.Spec.SecretRef.Name != "" {
			var err error
			if ref.Auth, ref.SSH, err = source.GitAuthFromSecret(source.SecretLookup(lookup), ns, gr.Spec.SecretRef.Name); err != nil {
				return nil, srcErr(srcURL, "", err)
			}
		}
		dir, _, err := r.opts.Git.Fetch(ctx, ref)
		if err != nil {
			return nil, srcErr(srcURL, "", err)
		}
		fs, err := securefs.MakeFsOnDiskSecure(dir)
		if err != nil {
			return nil, srcErr(srcURL, "opening checkout", err)
		}
		root, fsys = dir, fs
	}

	rel, err := source.CleanRelative(chartPath)
	if err != nil {
		return nil, srcErr(srcURL, fmt.Sprintf("chart path %q", chartPath), err)
	}
	abs := filepath.Join(root, filepath.FromSlash(rel))
	where := srcURL + "//" + rel
	var c *chart.Chart
	switch st, err := os.Stat(abs); {
	case err != nil:
		return nil, &ChartNotFoundError{Chart: chartPath, Source: srcURL, Reason: "no such path in the repository"}
	case st.IsDir():
		if !fsys.Exists(filepath.Join(abs, "Chart.yaml")) {
			return nil, &ChartNotFoundError{Chart: chartPath, Source: srcURL, Reason: "the directory has no Chart.yaml"}
		}
		if c, err = loadChartDir(fsys, abs); err != nil {
			return nil, srcErr(where, "loading chart", err)
		}
	default:
		data, err := fsys.ReadFile(abs)
		if err != nil {
			return nil, srcErr(where, "reading chart", err)
		}
		if c, err = loader.LoadArchive(strings.NewReader(string(data))); err != nil {
			return nil, srcErr(where, "loading chart archive", err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, srcErr(where, "invalid chart", err)
	}
	if err := checkDependencies(c); err != nil {
		return nil, srcErr(where, "", err)
	}
	// The packaged bytes are deterministic (fixed times), so the key can be
	// their content: package once into memory-sized temp, then cache.
	var sum strings.Builder
	for _, f := range c.Raw {
		sum.WriteString(f.Name + "\x00" + keyOf(string(f.Data)) + "\x00")
	}
	key := keyOf(where, sum.String())
	p, err := r.cache.ensure("packaged", safeName(c.Name())+"-"+safeName(c.Metadata.Version)+"-"+key[:16], ".tgz", nil, func(w ioWriter) error {
		return packageChart(c, w)
	})
	if err != nil {
		return nil, srcErr(where, "packaging chart", err)
	}
	digest, err := FileDigest(p)
	if err != nil {
		return nil, srcErr(where, "reading packaged chart", err)
	}
	return &chartArtifact{
		ref:     result.ChartRef{Name: c.Name(), Version: c.Metadata.Version, Source: where, Digest: digest},
		archive: p,
		valuesFile: func(name string) ([]byte, string, bool, error) {
			rel, err := source.CleanRelative(name)
			// Files of this repository are named as a reviewer opens them.
			w := srcURL + "//" + name
			if thisRepo && err == nil {
				w = rel
			}
			if err != nil {
				return nil, w, false, err
			}
			data, err := fsys.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				if errors.Is(err, os.ErrNotExist) || !fsys.Exists(filepath.Join(root, filepath.FromSlash(rel))) {
					return nil, w, false, nil
				}
				return nil, w, false, err
			}
			return data, w, true, nil
		},
	}, nil
}

// atCheckout reports whether a GitRepository of this repository names the
// checked-out commit. One that names another commit is fetched like
// another repository (the default case of gitChart), never read from the
// worktree, which holds other files than Flux would read.
func (r *Renderer) atCheckout(gr *sourcev1.GitRepository) bool {
	if r.opts.Repo.GitDir == "" {
		return true // not a Git repository: nothing else to read
	}
	r.headOnce.Do(func() { r.head, r.headErr = r.opts.Repo.HeadCommit() })
	if r.headErr != nil || r.head == "" {
		return false
	}
	ref := source.GitRef{URL: gr.Spec.URL}
	if rf := gr.Spec.Reference; rf != nil {
		ref.Branch, ref.Tag, ref.SemVer, ref.Commit, ref.Name = rf.Branch, rf.Tag, rf.SemVer, rf.Commit, rf.Name
	}
	local, err := source.ResolveLocalRef(r.opts.Repo.GitDir, ref)
	return err == nil && local.Commit == r.head
}
