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
	srcErr := gitSourceErr(ns, name)
	t, err := r.gitTree(ctx, ns, name, lookup)
	if err != nil {
		return nil, err
	}
	c, where, err := t.loadChart(chartPath, srcErr)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, srcErr(where, "invalid chart", err)
	}
	if err := checkDependencies(c); err != nil {
		return nil, srcErr(where, "", err)
	}
	p, err := r.packaged(c, where)
	if err != nil {
		return nil, srcErr(where, "packaging chart", err)
	}
	digest, err := FileDigest(p)
	if err != nil {
		return nil, srcErr(where, "reading packaged chart", err)
	}
	return &chartArtifact{
		ref:        result.ChartRef{Name: c.Name(), Version: c.Metadata.Version, Source: where, Digest: digest},
		archive:    p,
		valuesFile: t.valuesFile,
	}, nil
}

// gitSourceErr makes the errors of one GitRepository.
func gitSourceErr(ns, name string) func(u, reason string, err error) error {
	return func(u, reason string, err error) error {
		return &SourceError{Kind: sourcev1.GitRepositoryKind, Namespace: ns, Name: name, URL: u, Reason: reason, Err: err}
	}
}

// gitTree is the checkout a GitRepository's chart is read from.
type gitTree struct {
	root string
	fsys filesys.FileSystem
	// url names the source in errors and chart references.
	url string
	// thisRepo: the checkout is the repository being built, whose files
	// are named as a reviewer opens them.
	thisRepo bool
}

// gitTree finds the GitRepository's checkout: this repository in place
// (the bootstrap source, or the same URL at the checked-out revision),
// else a fetch of the other repository.
func (r *Renderer) gitTree(ctx context.Context, ns, name string, lookup Lookup) (*gitTree, error) {
	srcErr := gitSourceErr(ns, name)
	gr := &sourcev1.GitRepository{}
	lookupErr := getSource(lookup, sourcev1.GitRepositoryKind, ns, name, gr)
	isBootstrap := ns+"/"+name == rootSourceOf(ctx)
	if lookupErr != nil && !isBootstrap {
		return nil, lookupErr
	}
	srcURL := gr.Spec.URL
	switch {
	case r.opts.Repo != nil && (isBootstrap || (r.opts.Repo.IsThisRepository(gr.Spec.URL) && r.atCheckout(gr))):
		if srcURL == "" {
			srcURL = "this repository"
		}
		// The chart is looked up on disk directly.
		if err := r.opts.Repo.Materialize(); err != nil {
			return nil, srcErr(srcURL, "reading this repository", err)
		}
		return &gitTree{root: r.opts.Repo.Root, fsys: r.opts.Repo.FS, url: srcURL, thisRepo: true}, nil
	case isBootstrap:
		return nil, srcErr(srcURL, "this repository is not available to the renderer", nil)
	case r.opts.Git == nil:
		return nil, srcErr(srcURL, "fetching other Git repositories is not enabled", nil)
	}
	ref := gitRefOf(gr)
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
	return &gitTree{root: dir, fsys: fs, url: srcURL}, nil
}

// gitRefOf is what to fetch for a GitRepository: its URL at its
// spec.ref (no ref: the default branch).
func gitRefOf(gr *sourcev1.GitRepository) source.GitRef {
	ref := source.GitRef{URL: gr.Spec.URL}
	if r := gr.Spec.Reference; r != nil {
		ref.Branch, ref.Tag, ref.SemVer = r.Branch, r.Tag, r.SemVer
		ref.Commit, ref.Name = r.Commit, r.Name
	}
	return ref
}

// loadChart loads the chart at chartPath: a directory with a Chart.yaml,
// or a packaged archive. where names it in errors and references.
func (t *gitTree) loadChart(chartPath string, srcErr func(u, reason string, err error) error) (c *chart.Chart, where string, err error) {
	rel, err := source.CleanRelative(chartPath)
	if err != nil {
		return nil, "", srcErr(t.url, fmt.Sprintf("chart path %q", chartPath), err)
	}
	abs := filepath.Join(t.root, filepath.FromSlash(rel))
	where = t.url + "//" + rel
	switch st, err := os.Stat(abs); {
	case err != nil:
		return nil, where, &ChartNotFoundError{Chart: chartPath, Source: t.url, Reason: "no such path in the repository"}
	case st.IsDir():
		if !t.fsys.Exists(filepath.Join(abs, "Chart.yaml")) {
			return nil, where, &ChartNotFoundError{Chart: chartPath, Source: t.url, Reason: "the directory has no Chart.yaml"}
		}
		if c, err = loadChartDir(t.fsys, abs); err != nil {
			return nil, where, srcErr(where, "loading chart", err)
		}
	default:
		data, err := t.fsys.ReadFile(abs)
		if err != nil {
			return nil, where, srcErr(where, "reading chart", err)
		}
		if c, err = loader.LoadArchive(strings.NewReader(string(data))); err != nil {
			return nil, where, srcErr(where, "loading chart archive", err)
		}
	}
	return c, where, nil
}

// packaged packages the chart, as source-controller does, into the
// cache. The packaged bytes are deterministic (fixed times), so the key
// can be their content.
func (r *Renderer) packaged(c *chart.Chart, where string) (string, error) {
	key := chartContentKey(c, where)
	return r.cache.ensure("packaged", safeName(c.Name())+"-"+safeName(c.Metadata.Version)+"-"+key[:16], ".tgz", nil, func(w ioWriter) error {
		return packageChart(c, w)
	})
}

// chartContentKey names a chart by where it is and what its files hold.
func chartContentKey(c *chart.Chart, where string) string {
	var sum strings.Builder
	for _, f := range c.Raw {
		sum.WriteString(f.Name + "\x00" + keyOf(string(f.Data)) + "\x00")
	}
	return keyOf(where, sum.String())
}

// valuesFile reads a valuesFiles entry, relative to the repository root
// as source-controller reads it; a missing file is not found, not an
// error.
func (t *gitTree) valuesFile(name string) ([]byte, string, bool, error) {
	rel, err := source.CleanRelative(name)
	// Files of this repository are named as a reviewer opens them.
	w := t.url + "//" + name
	if t.thisRepo && err == nil {
		w = rel
	}
	if err != nil {
		return nil, w, false, err
	}
	data, err := t.fsys.ReadFile(filepath.Join(t.root, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || !t.fsys.Exists(filepath.Join(t.root, filepath.FromSlash(rel))) {
			return nil, w, false, nil
		}
		return nil, w, false, err
	}
	return data, w, true, nil
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
