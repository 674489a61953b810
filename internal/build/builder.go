package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// Options configure a Builder.
type Options struct {
	// Repo is the configuration repository.
	Repo *source.Repository
	// Decryptor holds the age keys; nil or keyless means encrypted Secrets
	// are reported, not decrypted.
	Decryptor *Decryptor
	// AllowRemoteBases lets kustomize fetch remote bases.
	AllowRemoteBases bool
	// Parallelism bounds concurrent Kustomization builds.
	Parallelism int
	// Git fetches GitRepository sources of other repositories; nil means
	// they are reported as unavailable.
	Git *source.GitFetcher
	// OCI pulls OCIRepository sources (`flux push artifact`); nil means
	// they are reported as unavailable.
	OCI *source.OCIFetcher
	// Bucket fetches Bucket sources (S3-compatible object storage); nil
	// means they are reported as unavailable.
	Bucket *source.BucketFetcher
	// Reuse takes unchanged Kustomizations' outputs from an earlier build
	// (see reuse.go); nil builds everything.
	Reuse *Reuse
	// RootSource names the source the cluster path is synced from when
	// the repository does not say (the root is defined outside it); nil:
	// GitRepository flux-system/flux-system as flux bootstrap creates, or
	// what a FluxInstance in the cluster path syncs.
	RootSource *RootSource
	// Helm configures HelmRelease rendering (see helm.go): the chart cache
	// and the target Kubernetes version. Repo, Git and KustomizeLock are the
	// Builder's own. An empty CacheDir uses a directory Close removes, and
	// with it the releases' ChartArchive: give one when deploying them.
	Helm helm.Options
	// External finds the ConfigMaps and Secrets HelmReleases refer to
	// (valuesFrom, a chart source's secretRef) that the build output does
	// not hold: from files or the cluster (see External). nil: none.
	External helm.Lookup
	// ExternalIsCluster says External reads the live cluster (apply, diff
	// --live): a substituteFrom Secret that a controller makes from an
	// object of the cluster path (an ExternalSecret's target) is then read
	// there, and missing there fails the Kustomization as it fails in Flux.
	// Offline (false) such a Secret's variables are left as written and
	// reported (see promised.go).
	ExternalIsCluster bool
}

// DefaultOptions returns options for a repository with sensible defaults.
func DefaultOptions(repo *source.Repository) Options {
	return Options{Repo: repo, Parallelism: 2 * runtime.GOMAXPROCS(0)}
}

// Builder builds cluster paths. It is safe for concurrent use.
type Builder struct {
	opts    Options
	workDir string
	sem     chan struct{}

	mu        sync.Mutex
	artifacts map[string]*artifactEntry
	ignores   map[string]*ignoreEntry
	revisions map[string]*revisionEntry

	headOnce sync.Once
	head     string
	headErr  error

	helmOnce sync.Once
	helm     *helm.Renderer
	helmErr  error
}

// New returns a Builder. Close it to remove the temporary files of
// materialised artifacts.
func New(opts Options) (*Builder, error) {
	if opts.Repo == nil {
		return nil, fmt.Errorf("build: no repository")
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 1
	}
	if opts.Decryptor == nil {
		opts.Decryptor = &Decryptor{}
	}
	return &Builder{opts: opts, sem: make(chan struct{}, opts.Parallelism), artifacts: map[string]*artifactEntry{}, ignores: map[string]*ignoreEntry{}, revisions: map[string]*revisionEntry{}}, nil
}

// Close removes temporary files.
func (b *Builder) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.closeRevisions()
	if b.workDir == "" {
		return err
	}
	err = errors.Join(err, os.RemoveAll(b.workDir))
	b.workDir = ""
	return err
}

func (b *Builder) tempDir() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.workDir == "" {
		d, err := os.MkdirTemp("", "slipway-build-")
		if err != nil {
			return "", err
		}
		b.workDir = d
	}
	return b.workDir, nil
}

// BuildAll builds the cluster paths concurrently, in the given order.
func (b *Builder) BuildAll(ctx context.Context, paths []string) []*result.ClusterBuild {
	return b.buildAll(ctx, paths, nil)
}

// buildAll is BuildAll, running then (when not nil) on each cluster
// path's build as soon as it is built, while the others still build.
func (b *Builder) buildAll(ctx context.Context, paths []string, then func(*result.ClusterBuild)) []*result.ClusterBuild {
	if b.buildsAll() {
		// Parsed while the roots' sources are resolved and their
		// kustomizations generated, which do not touch it.
		go loadSchema()
	}
	out := make([]*result.ClusterBuild, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			out[i] = b.BuildClusterPath(ctx, p)
			if then != nil {
				then(out[i])
			}
		})
	}
	wg.Wait()
	return out
}

// buildsAll reports whether this builder has no earlier build to reuse,
// so every Kustomization it meets is built (a first run, an empty build
// cache, --no-build-cache).
func (b *Builder) buildsAll() bool {
	r := b.opts.Reuse
	return r == nil || r.Previous.empty()
}

// RootKustomization is the Kustomization Flux's bootstrap creates for a
// cluster path; slipway starts every cluster path from it (or from the
// one RootSource names).
func RootKustomization(clusterPath string) *kustomizev1.Kustomization {
	return rootKustomization(clusterPath, DefaultRootSource())
}

// rootKustomization is the root Kustomization syncing a cluster path from
// a root source: flux bootstrap and Flux Operator both name it as the
// source.
func rootKustomization(clusterPath string, src RootSource) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: src.Name, Namespace: src.Namespace},
		Spec: kustomizev1.KustomizationSpec{
			Path:      "./" + clusterPath,
			Prune:     true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: src.Kind, Name: src.Name, Namespace: src.Namespace},
		},
	}
}

// clusterState is the work of one cluster path in progress.
type clusterState struct {
	path  string
	reg   *sourceRegistry
	seen  map[result.KustomizationRef]bool
	order []*result.KustomizationBuild
	byRef map[result.KustomizationRef]*result.KustomizationBuild
	vars  map[string]*unstructured.Unstructured // Kind/ns/name of ConfigMaps and Secrets
	// varOwner says which Kustomization built each entry of vars.
	varOwner map[string]result.KustomizationRef
	// parent says which Kustomization's output declared each one.
	parent    map[result.KustomizationRef]result.KustomizationRef
	findings  []result.Finding
	sensitive []string
	// root is the root Kustomization; rootFixed: --root-source named its
	// source, which a FluxInstance in the path does not override.
	root      *unit
	rootFixed bool
	// synced: a FluxInstance's sync has named the root already.
	synced bool
	// resourceSets are the ResourceSets rendered so far; waitingSets those
	// with inputsFrom, rendered once nothing else can be built.
	resourceSets []declaredResourceSet
	waitingSets  []waitingSet
	// makers are the objects built so far that have a controller make a
	// Secret (promised.go), namespaces the built Namespaces' labels.
	makers     []result.Object
	namespaces map[string]map[string]string
}

func (st *clusterState) lookup(kind, namespace, name string) (*unstructured.Unstructured, bool) {
	o, ok := st.vars[kind+"/"+namespace+"/"+name]
	return o, ok
}

// secretLookup finds the Secrets GitRepositories' secretRefs name: built
// so far, then external (files, cluster). Values of external Secrets join
// the path's sensitive values, masked like those built. Sources are
// resolved on the build's own goroutine, so st needs no lock here.
func (st *clusterState) secretLookup(external helm.Lookup) source.SecretLookup {
	return func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		if u, ok := st.lookup(kind, namespace, name); ok || external == nil {
			return u, ok
		}
		u, ok := external(kind, namespace, name)
		if ok && kind == "Secret" {
			for _, v := range kube.DataValues(u) {
				st.sensitive = append(st.sensitive, v)
			}
		}
		return u, ok
	}
}

// varsLookup finds substituteFrom objects in the build output, then, once
// nothing more can be built (final), where Flux finds the rest: the cluster
// (external: objects given in files, the cluster when connected).
func (st *clusterState) varsLookup(external helm.Lookup, final bool) varSource {
	if !final || external == nil {
		return st.lookup
	}
	return func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		if u, ok := st.lookup(kind, namespace, name); ok {
			return u, true
		}
		return external(kind, namespace, name)
	}
}

// promiseLookup finds Secrets that objects of the build have a controller
// make; nil when connected to the cluster, which holds the real ones.
func (st *clusterState) promiseLookup(b *Builder) promiseLookup {
	if b.opts.ExternalIsCluster {
		return nil
	}
	return func(namespace, name string) (promise, bool) {
		labels := func() map[string]map[string]string { return st.namespaces }
		for _, o := range st.makers {
			for _, p := range promisesOf(o, labels) {
				if p.namespace == namespace && p.name == name {
					return p, true
				}
			}
		}
		return promise{}, false
	}
}

// readRepoFile reads a repository file by the relative path an Origin
// names (result.ClusterBuild.ReadFile).
func (b *Builder) readRepoFile(rel string) ([]byte, error) {
	abs, err := b.opts.Repo.Abs(rel)
	if err != nil {
		return nil, err
	}
	return b.opts.Repo.FS.ReadFile(abs)
}

// BuildClusterPath builds one cluster path: the root Kustomization, then
// every Kustomization found in an output, wave after wave. A Kustomization
// waits while its source or its substitution inputs may still come from a
// Kustomization not built yet; when nothing can progress, the rest are
// built with what exists and the gaps are reported.
func (b *Builder) BuildClusterPath(ctx context.Context, clusterPath string) *result.ClusterBuild {
	start := time.Now()
	cb := &result.ClusterBuild{Path: clusterPath, ReadFile: b.readRepoFile}
	st := b.newClusterState(clusterPath)
	pending := []*unit{st.root}
	final := false
	for {
		if len(pending) == 0 {
			// ResourceSets with inputsFrom render last, with every input
			// provider found; what they generate is built in turn.
			next, rendered := b.renderWaitingSets(ctx, st)
			if !rendered {
				break
			}
			pending = next
			continue
		}
		if ctx.Err() != nil {
			st.findings = append(st.findings, result.Finding{Severity: result.SeverityError, Check: "build", ClusterPath: clusterPath, Message: ctx.Err().Error()})
			break
		}
		ready, deferred, waiting := b.sortWave(ctx, st, pending, final)
		var results []built
		switch {
		case len(ready) > 0:
			for _, j := range deferred {
				waiting = append(waiting, j.u)
			}
			results = b.buildBatch(ctx, clusterPath, ready)
		case len(deferred) > 0:
			var rest []*unit
			ready, results, rest = b.buildDeferred(ctx, clusterPath, deferred)
			waiting = append(waiting, rest...)
		default:
			if next, rendered := b.renderWaitingSets(ctx, st); rendered && !final {
				// A provider may have been what they wait for.
				pending = append(waiting, next...)
				continue
			}
			final = true
			pending = waiting
			continue
		}
		var next []*unit
		for i, r := range results {
			st.add(r)
			kb := st.byRef[r.kb.Ref]
			b.expandResourceSets(st, kb, ready[i].u)
			next = append(next, b.discover(ctx, st, ready[i].u, kb)...)
		}
		pending = append(waiting, next...)
		// Everything waiting was built in a final wave: what it declared
		// may wait for each other again.
		final = false
	}
	st.findings = append(st.findings, substituteOrderFindings(st)...)
	st.findings = append(st.findings, promisedFindings(st, b.opts.External, st.promiseLookup(b))...)
	st.findings = append(st.findings, resourceSetDependencyFindings(st)...)
	st.findings = append(st.findings, emptyClusterPath(st)...)
	st.findings = append(st.findings, rootRefFinding(b, st)...)
	b.renderReleases(ctx, st)
	cb.Kustomizations = dependencyOrder(st.order)
	cb.Findings = st.findings
	cb.Sensitive = st.sensitive
	cb.Duration = time.Since(start)
	return cb
}

// newClusterState starts a cluster path's build from its root
// Kustomization: the one Flux bootstrap creates, syncing the cluster path
// from the root source (flux-system unless the options name another).
func (b *Builder) newClusterState(clusterPath string) *clusterState {
	st := &clusterState{
		path:  clusterPath,
		reg:   newRegistry(),
		seen:  map[result.KustomizationRef]bool{},
		byRef: map[result.KustomizationRef]*result.KustomizationBuild{},
		vars:  map[string]*unstructured.Unstructured{},

		varOwner: map[string]result.KustomizationRef{},
		parent:   map[result.KustomizationRef]result.KustomizationRef{},

		namespaces: map[string]map[string]string{},
	}
	st.reg.secrets = st.secretLookup(b.opts.External)
	rootSrc := DefaultRootSource()
	if b.opts.RootSource != nil {
		rootSrc, st.rootFixed = *b.opts.RootSource, true
	}
	st.reg.rootKind, st.reg.rootRef = rootSrc.Kind, refKey(rootSrc.Namespace, rootSrc.Name)
	st.root = &unit{ks: rootKustomization(clusterPath, rootSrc), root: true}
	st.seen[st.root.ref()] = true
	return st
}

// sortWave sorts the Kustomizations of one wave: ready to build, deferred
// (a substituteFrom object not built yet), or waiting for a source or
// variables a later wave may provide. A final wave waits for nothing.
func (b *Builder) sortWave(ctx context.Context, st *clusterState, pending []*unit, final bool) (ready, deferred []buildJob, waiting []*unit) {
	for _, u := range pending {
		r := b.resolve(ctx, st.reg, u.ks.Spec.SourceRef.Kind, u.ks.Spec.SourceRef.Namespace, u.ks.Spec.SourceRef.Name)
		if r.pending && !final {
			waiting = append(waiting, u)
			continue
		}
		j := buildJob{u: u, tree: r.tree, err: rootHint(st, r)}
		if u.ks.Spec.PostBuild != nil {
			j.vars = loadVarsPromised(u.ks, st.varsLookup(b.opts.External, final), st.promiseLookup(b), final)
			if len(j.vars.pending) > 0 && !final {
				waiting = append(waiting, u)
				continue
			}
			if len(j.vars.missing) > 0 {
				// Another unit of this wave may build it: try after
				// them, and only then in the unit's own output.
				deferred = append(deferred, j)
				continue
			}
		}
		ready = append(ready, j)
	}
	return ready, deferred, waiting
}

// rootHint adds to a source the cluster path does not declare, when
// nothing names the root source either (no gotk-sync.yaml, FluxInstance
// or --root-source), that it may be the root under another name: a
// cluster bootstrapped outside the repository (a FluxInstance installed
// with helmfile, its sync in a values file) names it nowhere slipway can
// read before building the path.
func rootHint(st *clusterState, r resolution) error {
	var se *SourceError
	if !r.pending || !errors.As(r.err, &se) || !slices.Contains(rootSourceKinds, se.Kind) ||
		st.synced || st.rootFixed || st.reg.gitRepos[st.reg.rootRef] != nil {
		return r.err
	}
	return &SourceError{Kind: se.Kind, Namespace: se.Namespace, Name: se.Name, Reason: fmt.Sprintf(
		"%s, and no gotk-sync.yaml or FluxInstance in the repository names the source Flux syncs %s from: if it is this one, name it with --root-source %s/%s/%s",
		se.Reason, st.path, se.Kind, se.Namespace, se.Name)}
}

// emptyClusterPath is an error when a cluster path builds no object and
// nothing else failed: Flux would prune everything the cluster runs.
func emptyClusterPath(st *clusterState) []result.Finding {
	for _, kb := range st.order {
		if len(kb.Objects) > 0 {
			return nil
		}
	}
	for _, f := range st.findings {
		if f.Severity == result.SeverityError {
			return nil
		}
	}
	return []result.Finding{{Severity: result.SeverityError, Check: "build", ClusterPath: st.path, Origin: result.Origin{File: st.path},
		Message: "the cluster path builds no object: Flux would apply nothing and prune everything its Kustomizations applied"}}
}

// buildJob is a Kustomization ready to build, with its source and
// variables resolved (or why its source cannot be).
type buildJob struct {
	u    *unit
	tree *sourceTree
	vars varsResult
	err  error
}

// buildBatch builds jobs in parallel, bounded by the builder's semaphore.
func (b *Builder) buildBatch(ctx context.Context, clusterPath string, jobs []buildJob) []built {
	results := make([]built, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if j.err != nil {
				results[i] = b.unbuildable(clusterPath, j.u, j.err)
				return
			}
			b.sem <- struct{}{}
			defer func() { <-b.sem }()
			results[i] = b.buildOrReuse(ctx, clusterPath, j.u, j.tree, j.vars)
		}()
	}
	wg.Wait()
	return results
}

// buildDeferred builds Kustomizations whose substituteFrom objects are
// nowhere in the cluster path yet, when nothing else can be built: each may
// hold them in its own output. Those that build are done; what they built
// may be what the others miss (Flux would find it in the cluster once
// applied), so the others wait again. When none builds, their failures are
// the result.
func (b *Builder) buildDeferred(ctx context.Context, clusterPath string, jobs []buildJob) (done []buildJob, results []built, rest []*unit) {
	all := b.buildBatch(ctx, clusterPath, jobs)
	for i, r := range all {
		if !r.missingVars {
			done = append(done, jobs[i])
			results = append(results, r)
		}
	}
	if len(done) == 0 {
		return jobs, all, nil
	}
	for i, r := range all {
		if r.missingVars {
			rest = append(rest, jobs[i].u)
		}
	}
	return done, results, rest
}

func (b *Builder) unbuildable(clusterPath string, u *unit, err error) built {
	ref := u.ref()
	_, err = relativize(err, b.opts.Repo.Root)
	kb := &result.KustomizationBuild{Ref: ref, Spec: u.ks, Origin: u.origin, Suspended: u.ks.Spec.Suspend,
		Err: &KustomizationError{Ref: ref, Origin: u.origin, Err: err}}
	return built{kb: kb, findings: []result.Finding{{Severity: result.SeverityError, Check: "source", ClusterPath: clusterPath,
		Kustomization: &ref, Origin: u.origin, Message: kb.Err.Error()}}}
}

func (st *clusterState) add(r built) {
	if prev, ok := st.byRef[r.kb.Ref]; ok {
		// A rebuilt root replaces its first build in place.
		*prev = *r.kb
	} else {
		st.byRef[r.kb.Ref] = r.kb
		st.order = append(st.order, r.kb)
	}
	st.findings = append(st.findings, r.findings...)
	st.sensitive = append(st.sensitive, r.sensitive...)
	st.indexVars(r.kb)
}

// indexVars makes a build's ConfigMaps and Secrets available to
// substituteFrom (a later build of the same Kustomization replaces them).
func (st *clusterState) indexVars(kb *result.KustomizationBuild) {
	for _, o := range kb.Objects {
		st.indexPromises(o)
		switch o.Object.GetKind() {
		case "ConfigMap", "Secret":
			if o.Object.GetAPIVersion() == "v1" {
				key := o.Object.GetKind() + "/" + o.Object.GetNamespace() + "/" + o.Object.GetName()
				st.vars[key] = o.Object
				st.varOwner[key] = kb.Ref
			}
		}
	}
}

// discover registers the sources an output declares and returns the
// Kustomizations in it that are still to be built.
func (b *Builder) discover(ctx context.Context, st *clusterState, parent *unit, kb *result.KustomizationBuild) []*unit {
	var next []*unit
	st.findings = append(st.findings, unservedVersionFindings(st.path, kb)...)
	// Sources first: whether a Kustomization is the root depends on its
	// GitRepository, which may come later in the output.
	objects := make([]result.Object, 0, len(kb.Objects))
	for _, o := range kb.Objects {
		if !flux.IsKustomization(o.Object) {
			objects = append(objects, o)
		}
	}
	for _, o := range kb.Objects {
		if flux.IsKustomization(o.Object) {
			objects = append(objects, o)
		}
	}
	for _, o := range objects {
		gvk := o.Object.GroupVersionKind()
		switch {
		case gvk.Group == flux.SourceGroup && gvk.Kind == flux.GitRepositoryKind:
			gr, err := flux.DecodeGitRepository(o.Object)
			if err != nil {
				st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
				continue
			}
			if gr.Namespace == "" {
				gr.Namespace = flux.DefaultNamespace
			}
			st.reg.gitRepos[refKey(gr.Namespace, gr.Name)] = gr
			st.reg.origins[refKey(gr.Namespace, gr.Name)] = o.Origin
		case gvk.Group == flux.SourceGroup && gvk.Kind == flux.OCIRepositoryKind:
			or, err := flux.DecodeOCIRepository(o.Object)
			if err != nil {
				st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
				continue
			}
			if or.Namespace == "" {
				or.Namespace = flux.DefaultNamespace
			}
			st.reg.ociRepos[refKey(or.Namespace, or.Name)] = or
			st.findings = append(st.findings, ociVerifyFinding(st.path, kb, o, or)...)
		case gvk.Group == flux.SourceGroup && gvk.Kind == flux.BucketKind:
			bk, err := flux.DecodeBucket(o.Object)
			if err != nil {
				st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
				continue
			}
			registerBucket(st.reg, bk, o.Origin)
		case gvk.Group == flux.SourceExtGroup && gvk.Kind == flux.ArtifactGeneratorKind:
			ag, err := flux.DecodeArtifactGenerator(o.Object)
			if err != nil {
				st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
				continue
			}
			for _, a := range ag.Spec.Artifacts {
				st.reg.artifacts[refKey(ag.Namespace, a.Name)] = artifactDef{gen: ag, artifact: a}
			}
		case isFluxInstance(o.Object):
			b.adoptSync(ctx, st, o)
		case flux.IsKustomization(o.Object):
			ks, err := flux.DecodeKustomization(o.Object)
			if err != nil {
				st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
				continue
			}
			ref := result.KustomizationRef{Namespace: ks.Namespace, Name: ks.Name}
			if parent.root && b.isSelf(st, parent.ks, ks) {
				// The bootstrapped flux-system Kustomization describes the
				// root itself: adopt its identity, never build it twice.
				b.adoptRoot(ctx, st, parent, kb, ks, o.Origin)
				continue
			}
			if st.seen[ref] {
				continue
			}
			st.seen[ref] = true
			st.parent[ref] = kb.Ref
			next = append(next, &unit{ks: ks, origin: o.Origin})
		}
	}
	return next
}

// isSelf reports whether ks is the root Kustomization of the cluster path:
// same path from this repository.
func (b *Builder) isSelf(st *clusterState, root, ks *kustomizev1.Kustomization) bool {
	key := refKey(ks.Spec.SourceRef.Namespace, ks.Spec.SourceRef.Name)
	isRoot := ks.Spec.SourceRef.Kind == st.reg.rootKind && key == st.reg.rootRef
	if !isRoot && (ks.Spec.SourceRef.Kind != sourcev1.GitRepositoryKind || !b.isThisRepo(st.reg, key)) {
		return false
	}
	p, err := source.CleanRelative(ks.Spec.Path)
	if err != nil {
		return false
	}
	return path.Clean(p) == path.Clean(st.path)
}

// adoptRoot takes over the identity and spec of the bootstrapped root. When
// its spec changes what the build produces, the root is rebuilt with it.
func (b *Builder) adoptRoot(ctx context.Context, st *clusterState, root *unit, kb *result.KustomizationBuild, ks *kustomizev1.Kustomization, origin result.Origin) {
	oldRef := kb.Ref
	st.reg.rootKind, st.reg.rootRef = ks.Spec.SourceRef.Kind, refKey(ks.Spec.SourceRef.Namespace, ks.Spec.SourceRef.Name)
	synthetic := root.ks
	root.ks = ks
	root.origin = origin
	newRef := root.ref()
	delete(st.byRef, oldRef)
	delete(st.seen, oldRef)
	st.seen[newRef] = true
	// The synthetic root was built before its GitRepository was known: a
	// spec.ignore of it changes which files the root sees.
	gr := st.reg.gitRepos[st.reg.rootRef]
	if buildAffecting(synthetic, ks) || (gr != nil && gr.Spec.Ignore != nil) {
		var vars varsResult
		if ks.Spec.PostBuild != nil {
			vars = loadVarsPromised(ks, st.varsLookup(b.opts.External, true), st.promiseLookup(b), true)
		}
		r := b.resolve(ctx, st.reg, ks.Spec.SourceRef.Kind, ks.Spec.SourceRef.Namespace, ks.Spec.SourceRef.Name)
		if r.tree != nil {
			rebuilt := b.buildOne(ctx, st.path, root, r.tree, vars)
			*kb = *rebuilt.kb
			st.forgetResourceSets(oldRef)
			b.expandResourceSets(st, kb, root)
			kept := st.findings[:0]
			for _, f := range st.findings {
				if f.Kustomization == nil || *f.Kustomization != oldRef {
					kept = append(kept, f)
				}
			}
			st.findings = append(kept, rebuilt.findings...)
			st.sensitive = append(st.sensitive, rebuilt.sensitive...)
			st.indexVars(kb)
		}
	}
	kb.Ref, kb.Spec, kb.Origin, kb.Suspended = newRef, ks, origin, ks.Spec.Suspend
	st.byRef[newRef] = kb
	for child, p := range st.parent {
		if p == oldRef {
			st.parent[child] = newRef
		}
	}
	for key, owner := range st.varOwner {
		if owner == oldRef {
			st.varOwner[key] = newRef
		}
	}
	for i := range st.resourceSets {
		if st.resourceSets[i].by == oldRef {
			st.resourceSets[i].by = newRef
		}
	}
	for i := range st.findings {
		if k := st.findings[i].Kustomization; k != nil && *k == oldRef {
			r := newRef
			st.findings[i].Kustomization = &r
		}
	}
	sort.SliceStable(st.order, func(i, j int) bool { return st.order[i] == kb })
}

// buildAffecting reports whether the real root spec would build differently
// from the synthetic one slipway started with.
func buildAffecting(a, b *kustomizev1.Kustomization) bool {
	x, y := a.Spec, b.Spec
	return len(y.Patches) > 0 || len(y.Images) > 0 || len(y.Components) > 0 ||
		y.TargetNamespace != x.TargetNamespace || y.NamePrefix != x.NamePrefix || y.NameSuffix != x.NameSuffix ||
		y.CommonMetadata != nil || y.PostBuild != nil || y.Decryption != nil || a.Name != b.Name || a.Namespace != b.Namespace
}

func objFinding(clusterPath string, kb *result.KustomizationBuild, o result.Object, check, msg string) result.Finding {
	id := o.ID()
	ref := kb.Ref
	return result.Finding{Severity: result.SeverityError, Check: check, ClusterPath: clusterPath, Kustomization: &ref, Object: &id, Origin: o.Origin, Message: msg}
}

// dependencyOrder sorts builds so each comes after what it depends on
// (the root first), keeping discovery order within a level; members of
// cycles keep their place at the end.
func dependencyOrder(order []*result.KustomizationBuild) []*result.KustomizationBuild {
	if len(order) == 0 {
		return order
	}
	deps := map[result.KustomizationRef][]result.KustomizationRef{}
	pos := map[result.KustomizationRef]int{}
	for i, kb := range order {
		deps[kb.Ref] = kb.DependsOn
		pos[kb.Ref] = i
	}
	level := map[result.KustomizationRef]int{}
	for i, l := range flux.NewGraph(deps).Levels() {
		for _, r := range l {
			level[r] = i + 1
		}
	}
	out := append([]*result.KustomizationBuild(nil), order...)
	rank := func(kb *result.KustomizationBuild) int {
		if pos[kb.Ref] == 0 {
			return -1 // the root stays first
		}
		if l, ok := level[kb.Ref]; ok {
			return l
		}
		return 1 << 30
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}
