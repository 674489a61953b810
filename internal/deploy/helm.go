package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/helmrelease"
	"github.com/slipwayhq/slipway/internal/result"
)

// HelmReleases are interpreted, not applied: after a Kustomization's
// objects are applied (and healthy, when it waits), each of its rendered
// HelmReleases is installed or upgraded as a real Helm release, in
// dependsOn order. The HelmRelease object itself is tracked in the
// Kustomization's inventory, with its release name and storage namespace,
// so that a HelmRelease removed from the repository is uninstalled under
// the same prune rules as any other object.

// releaseParallelism bounds the Helm releases of one Kustomization
// reconciled at once: each holds a Helm action and, with waiting, a watch.
const releaseParallelism = 4

// isHelmRelease reports whether an object, or inventory entry, is a Flux
// HelmRelease.
func isHelmRelease(id result.ObjectID) bool {
	return id.Group == helmv2.GroupVersion.Group && id.Kind == helmv2.HelmReleaseKind
}

func helmReleaseID(ref result.KustomizationRef) result.ObjectID {
	return result.ObjectID{Group: helmv2.GroupVersion.Group, Kind: helmv2.HelmReleaseKind, Namespace: ref.Namespace, Name: ref.Name}
}

// releaseOf returns where an inventory entry's Helm release is stored:
// recorded when it was installed, else helm-controller's defaults (release
// named after the HelmRelease, stored in its namespace).
func releaseOf(e Entry) (name, storageNamespace string) {
	id := e.ObjectID()
	name, storageNamespace = e.Release, e.StorageNamespace
	if name == "" {
		name = id.Name
	}
	if storageNamespace == "" {
		storageNamespace = id.Namespace
	}
	return name, storageNamespace
}

// helmState is what a Deployer knows about Helm releases while it deploys
// cluster paths: per cluster path, the HelmReleases of the build (so that
// one moved to another Kustomization is not uninstalled), the outcomes so
// far (for dependsOn), and the Releaser.
type helmState struct {
	mu    sync.Mutex
	paths map[string]*pathReleases
}

type pathReleases struct {
	mu sync.Mutex
	// present are the HelmReleases of the cluster path's build.
	present map[result.KustomizationRef]*result.KustomizationBuild
	// kustomizations are the Kustomizations of the build, and done their
	// deploy outcome once known.
	kustomizations map[result.KustomizationRef]bool
	done           map[result.KustomizationRef]result.Status
	releases       map[result.KustomizationRef]*result.ReleaseDeploy

	once sync.Once
	rel  *helmrelease.Releaser
	err  error
}

// begin registers a cluster path's build before it is deployed.
func (h *helmState) begin(cb *result.ClusterBuild) *pathReleases {
	p := &pathReleases{
		present:        map[result.KustomizationRef]*result.KustomizationBuild{},
		kustomizations: map[result.KustomizationRef]bool{},
		done:           map[result.KustomizationRef]result.Status{},
		releases:       map[result.KustomizationRef]*result.ReleaseDeploy{},
	}
	for _, kb := range cb.Kustomizations {
		p.kustomizations[kb.Ref] = true
		for _, o := range kb.Objects {
			if isHelmRelease(o.ID()) {
				p.present[result.KustomizationRef{Namespace: o.Object.GetNamespace(), Name: o.Object.GetName()}] = kb
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paths == nil {
		h.paths = map[string]*pathReleases{}
	}
	h.paths[cb.Path] = p
	return p
}

func (h *helmState) end(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.paths, path)
}

// of returns the state of a cluster path being deployed; an empty one when
// called outside Deploy.
func (h *helmState) of(path string) *pathReleases {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p := h.paths[path]; p != nil {
		return p
	}
	return (&helmState{}).begin(&result.ClusterBuild{Path: path})
}

// releaser returns the cluster path's Releaser, made on first use.
func (d *Deployer) releaser(clusterPath string, p *pathReleases) (*helmrelease.Releaser, error) {
	p.once.Do(func() {
		p.rel, p.err = helmrelease.New(d.cluster.Config, helmrelease.Options{
			Timeout: d.opts.Timeout,
			// helm-controller waits for a release's resources unless the
			// HelmRelease disables it.
			Wait: true,
			Log: func(format string, args ...any) {
				d.emit(clusterPath, nil, format, args...)
			},
		})
	})
	return p.rel, p.err
}

// releaseDeps adds to a Kustomization's dependencies those its
// HelmReleases have on other Kustomizations, or on HelmReleases of other
// Kustomizations: the Kustomization is deployed after them, so its releases
// never wait for work that has not started. (Flux schedules each
// HelmRelease on its own; slipway deploys per Kustomization.)
func releaseDeps(cb *result.ClusterBuild, kb *result.KustomizationBuild) []result.KustomizationRef {
	owner := map[result.KustomizationRef]result.KustomizationRef{}
	isK := map[result.KustomizationRef]bool{}
	for _, k := range cb.Kustomizations {
		isK[k.Ref] = true
		for _, rb := range k.Releases {
			owner[rb.Ref] = k.Ref
		}
	}
	out := append([]result.KustomizationRef(nil), kb.DependsOn...)
	seen := map[result.KustomizationRef]bool{kb.Ref: true}
	for _, d := range kb.DependsOn {
		seen[d] = true
	}
	for _, rb := range kb.Releases {
		for _, dep := range rb.DependsOn {
			target, ok := owner[dep]
			if !ok && isK[dep] {
				target, ok = dep, true
			}
			if ok && !seen[target] {
				seen[target] = true
				out = append(out, target)
			}
		}
	}
	return out
}

// helmEntries returns the inventory entries of a Kustomization's
// HelmReleases. A release that did not render keeps what the previous
// inventory recorded, so it is neither forgotten nor uninstalled.
func helmEntries(kb *result.KustomizationBuild, old map[string]Entry) map[string]Entry {
	out := map[string]Entry{}
	rendered := map[result.KustomizationRef]*result.ReleaseBuild{}
	for _, rb := range kb.Releases {
		rendered[rb.Ref] = rb
	}
	for _, o := range kb.Objects {
		if !isHelmRelease(o.ID()) {
			continue
		}
		ref := result.KustomizationRef{Namespace: o.Object.GetNamespace(), Name: o.Object.GetName()}
		e := Entry{ID: o.ID().InventoryKey(), Version: o.Object.GroupVersionKind().Version}
		prev, known := old[e.ID]
		switch rb := rendered[ref]; {
		case rb != nil && rb.ReleaseName != "" && rb.StorageNamespace != "":
			e.Release, e.StorageNamespace = rb.ReleaseName, rb.StorageNamespace
			if known {
				e = carryFormer(e, prev)
			}
		case known:
			e.Release, e.StorageNamespace, e.FormerReleases = prev.Release, prev.StorageNamespace, prev.FormerReleases
		}
		out[e.ID] = e
	}
	return out
}

// recordKustomization notes a Kustomization's outcome for HelmReleases
// that depend on it.
func (p *pathReleases) recordKustomization(kd *result.KustomizationDeploy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[kd.Ref] = kd.Status
}

// unmet says why a dependency of a HelmRelease is not ready, "" when it is.
// Dependencies are HelmReleases first (Flux's meaning), then Kustomizations.
func (p *pathReleases) unmet(dep result.KustomizationRef, self result.KustomizationRef) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.present[dep]; ok {
		rd, done := p.releases[dep]
		switch {
		case !done:
			return fmt.Sprintf("dependency HelmRelease %s was not reconciled", dep)
		case releaseSucceeded(rd.Action) || rd.Action == result.ReleaseSkipped:
			return ""
		default:
			return fmt.Sprintf("dependency HelmRelease %s %s", dep, rd.Action)
		}
	}
	if p.kustomizations[dep] {
		if dep == self {
			return "" // its objects are applied: releases run after them
		}
		st, done := p.done[dep]
		switch {
		case !done:
			return fmt.Sprintf("dependency Kustomization %s was not deployed", dep)
		case st == result.StatusApplied:
			return ""
		default:
			return fmt.Sprintf("dependency Kustomization %s is %s", dep, st)
		}
	}
	return fmt.Sprintf("dependsOn %s: no such HelmRelease or Kustomization in the cluster path", dep)
}

func releaseSucceeded(a result.ReleaseAction) bool {
	return a == result.ReleaseInstalled || a == result.ReleaseUpgraded || a == result.ReleaseUnchanged
}

// releaseFailed reports outcomes that fail the run: a release rolled back
// did not reach the desired state either.
func releaseFailed(a result.ReleaseAction) bool {
	return a == result.ReleaseFailed || a == result.ReleaseRolledBack
}

// reconcileReleases installs, upgrades or (dry run) checks the
// Kustomization's HelmReleases, in dependsOn order, independent ones in
// parallel. A release that fails fails the Kustomization.
//
// entries are the Kustomization's inventory entries: a HelmRelease whose
// entry records former releases has them uninstalled first; those gone are
// returned by entry ID, for the inventory to forget.
func (d *Deployer) reconcileReleases(ctx context.Context, clusterPath string, kb *result.KustomizationBuild, kd *result.KustomizationDeploy, entries map[string]Entry) map[string][]ReleaseAt {
	if len(kb.Releases) == 0 {
		return nil
	}
	byRef, deps := localDeps(kb.Releases)
	rr := &releaseRun{d: d, clusterPath: clusterPath, ref: kb.Ref, kd: kd, entries: entries,
		p: d.helm.of(clusterPath), outcomes: map[result.KustomizationRef]*result.ReleaseDeploy{}, retired: map[string][]ReleaseAt{}}
	rr.rel, rr.relErr = d.releaser(clusterPath, rr.p)
	for _, level := range flux.NewGraph(deps).Levels() {
		inParallel(level, releaseParallelism, func(r result.KustomizationRef) { rr.reconcile(ctx, byRef[r]) })
	}
	for _, rb := range kb.Releases {
		rr.conclude(rb)
	}
	return rr.retired
}

// localDeps indexes a Kustomization's HelmReleases and keeps, of their
// dependencies, those within it: only they order the levels; the others
// finished before it started (releaseDeps).
func localDeps(releases []*result.ReleaseBuild) (map[result.KustomizationRef]*result.ReleaseBuild, map[result.KustomizationRef][]result.KustomizationRef) {
	byRef := map[result.KustomizationRef]*result.ReleaseBuild{}
	for _, rb := range releases {
		byRef[rb.Ref] = rb
	}
	deps := map[result.KustomizationRef][]result.KustomizationRef{}
	for _, rb := range releases {
		var local []result.KustomizationRef
		for _, dep := range rb.DependsOn {
			if _, ok := byRef[dep]; ok {
				local = append(local, dep)
			}
		}
		deps[rb.Ref] = local
	}
	return byRef, deps
}

// inParallel calls fn for each item, at most limit at a time, and
// returns when all are done.
func inParallel[T any](items []T, limit int, fn func(T)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(it)
		}()
	}
	wg.Wait()
}

// releaseRun is the reconcile of one Kustomization's HelmReleases; its
// releases run in parallel, so what they share is guarded by mu.
type releaseRun struct {
	d           *Deployer
	clusterPath string
	ref         result.KustomizationRef
	kd          *result.KustomizationDeploy
	entries     map[string]Entry
	p           *pathReleases
	rel         *helmrelease.Releaser
	relErr      error

	mu       sync.Mutex
	outcomes map[result.KustomizationRef]*result.ReleaseDeploy
	retired  map[string][]ReleaseAt
}

func (rr *releaseRun) change(c result.Change) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.kd.Changes = append(rr.kd.Changes, c)
}

// record keeps a release's outcome, here and for the cluster path, where
// HelmReleases of later Kustomizations look up their dependencies.
func (rr *releaseRun) record(rd *result.ReleaseDeploy) {
	rr.mu.Lock()
	rr.outcomes[rd.Ref] = rd
	rr.mu.Unlock()
	rr.p.mu.Lock()
	rr.p.releases[rd.Ref] = rd
	rr.p.mu.Unlock()
}

// notRun is the outcome of a release that was not reconciled.
func notRun(rb *result.ReleaseBuild, action result.ReleaseAction, msg string) *result.ReleaseDeploy {
	return &result.ReleaseDeploy{Ref: rb.Ref, ReleaseName: rb.ReleaseName, Namespace: rb.StorageNamespace,
		Chart: rb.Chart, Origin: rb.Origin, Action: action, Message: msg}
}

// reconcile reconciles one release once its dependencies are met and its
// former releases retired.
func (rr *releaseRun) reconcile(ctx context.Context, rb *result.ReleaseBuild) {
	if rr.relErr != nil {
		rr.record(notRun(rb, result.ReleaseFailed, "connecting Helm to the cluster: "+rr.relErr.Error()))
		return
	}
	if !rb.Suspended {
		for _, dep := range rb.DependsOn {
			if why := rr.p.unmet(dep, rr.ref); why != "" {
				rr.record(notRun(rb, result.ReleaseFailed, "not reconciled: "+why))
				return
			}
		}
	}
	if e, ok := rr.entries[helmReleaseID(rb.Ref).InventoryKey()]; ok && e.FormerReleases != "" && !rb.Suspended {
		done, err := rr.d.retireFormer(ctx, rr.clusterPath, rb, e, rr.kd, rr.change)
		rr.mu.Lock()
		rr.retired[e.ID] = done
		rr.mu.Unlock()
		if err != nil {
			rr.record(notRun(rb, result.ReleaseFailed, "not reconciled: "+err.Error()))
			return
		}
	}
	var rd *result.ReleaseDeploy
	if rr.d.opts.DryRun {
		rd = rr.rel.DryRun(ctx, rb)
	} else {
		rr.d.emit(rr.clusterPath, &rr.ref, "HelmRelease %s: reconciling release %s", rb.Ref, rb.ReleaseName)
		rd = rr.rel.Reconcile(ctx, rb)
	}
	rr.record(rd)
}

// conclude adds a release's outcome to the Kustomization's, in the
// build's order; a failed release fails the Kustomization.
func (rr *releaseRun) conclude(rb *result.ReleaseBuild) {
	rd, ok := rr.outcomes[rb.Ref]
	if !ok {
		// Left out of every level: a member or dependant of a cycle.
		rd = notRun(rb, result.ReleaseFailed, "not reconciled: dependsOn cycle between HelmReleases")
		rr.record(rd)
	}
	kd := rr.kd
	kd.Releases = append(kd.Releases, rd)
	if rd.Action != result.ReleaseUnchanged && rd.Action != result.ReleaseSkipped {
		rr.d.emit(rr.clusterPath, &rr.ref, "HelmRelease %s %s: %s", rd.Ref, rd.Action, rd.Message)
	}
	if releaseFailed(rd.Action) && kd.Status != result.StatusFailed {
		kd.Fail(result.StatusFailed, result.ReasonReleaseFailed, fmt.Errorf("HelmRelease %s %s: %s", rd.Ref, rd.Action, rd.Message))
	}
}

// pruneReleases uninstalls the Helm releases of HelmReleases that left the
// Kustomization. One still defined elsewhere in the cluster path (moved to
// another Kustomization) is only dropped from this inventory. It returns
// the entries whose uninstall failed, to retry on the next run.
func (d *Deployer) pruneReleases(ctx context.Context, inv *Inventory, stale []Entry) ([]Entry, []result.Change, error) {
	if len(stale) == 0 {
		return nil, nil, nil
	}
	p := d.helm.of(inv.ClusterPath)
	var (
		remaining []Entry
		changes   []result.Change
		failed    []string
	)
	for _, e := range stale {
		id := e.ObjectID()
		ref := result.KustomizationRef{Namespace: id.Namespace, Name: id.Name}
		name, storage := releaseOf(e)
		p.mu.Lock()
		_, moved := p.present[ref]
		p.mu.Unlock()
		switch {
		case moved:
			changes = append(changes, result.Change{ID: id, Action: result.ActionSkipped,
				Message: "moved to another Kustomization: release " + name + " kept"})
			continue
		case d.opts.DryRun:
			changes = append(changes, result.Change{ID: id, Action: result.ActionDeleted,
				Message: fmt.Sprintf("would uninstall Helm release %s (namespace %s)", name, storage)})
			continue
		}
		c, err := d.uninstallAll(ctx, inv, ref, e)
		changes = append(changes, c...)
		if err != nil {
			remaining = append(remaining, e)
			failed = append(failed, fmt.Sprintf("HelmRelease %s: %v", ref, err))
		}
	}
	if len(failed) > 0 {
		return remaining, changes, fmt.Errorf("uninstalling Helm releases: %s", strings.Join(failed, "; "))
	}
	return remaining, changes, nil
}

// uninstallAll uninstalls every release a removed HelmRelease's entry
// records, its former ones included.
func (d *Deployer) uninstallAll(ctx context.Context, inv *Inventory, ref result.KustomizationRef, e Entry) ([]result.Change, error) {
	id := e.ObjectID()
	rel, err := d.releaser(inv.ClusterPath, d.helm.of(inv.ClusterPath))
	if err != nil {
		return []result.Change{{ID: id, Action: result.ActionFailed, Message: err.Error()}}, err
	}
	var changes []result.Change
	for _, r := range e.AllReleases() {
		rd := rel.Uninstall(ctx, ref, r.Name, r.StorageNamespace)
		if rd.Action == result.ReleaseFailed {
			changes = append(changes, result.Change{ID: id, Action: result.ActionFailed, Message: rd.Message})
			return changes, errors.New(rd.Message)
		}
		changes = append(changes, result.Change{ID: id, Action: result.ActionDeleted, Message: rd.Message})
		d.emit(inv.ClusterPath, &inv.Ref, "HelmRelease %s uninstalled: %s", ref, rd.Message)
	}
	return changes, nil
}

// prune deletes what left a Kustomization: objects (pruneObjects) and the
// Helm releases of HelmReleases (pruneReleases). Entries that could not be
// removed are returned, to stay in the inventory.
func (d *Deployer) prune(ctx context.Context, old *Inventory, next map[string]Entry) ([]Entry, []result.Change, error) {
	objects := *old
	objects.Entries = nil
	var releases []Entry
	for _, e := range old.Entries {
		if isHelmRelease(e.ObjectID()) {
			if _, keep := next[e.ID]; !keep {
				releases = append(releases, e)
			}
			continue
		}
		objects.Entries = append(objects.Entries, e)
	}
	remaining, changes, err := d.pruneObjects(ctx, &objects, next)
	relRemaining, relChanges, relErr := d.pruneReleases(ctx, old, releases)
	remaining = append(remaining, relRemaining...)
	changes = append(changes, relChanges...)
	if err == nil {
		err = relErr
	}
	return remaining, changes, err
}
