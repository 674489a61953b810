package uninstall

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/ssa"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/helmrelease"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
)

// Options configure Run.
type Options struct {
	// ClusterPaths limits the uninstall to these cluster paths; empty means
	// every cluster path deployed to this cluster, and slipway-system itself.
	ClusterPaths []string
	// Prune deletes every object of the inventories; otherwise they keep
	// running and only lose their ApplySet membership label.
	Prune bool
	// ForceFinalizers removes the finalizers of objects still terminating
	// when Timeout expires. Off by default: a finalizer usually guards
	// something outside the cluster.
	ForceFinalizers bool
	// DryRun lists what would be deleted and changes nothing.
	DryRun bool
	// Timeout bounds waiting for deletions.
	Timeout time.Duration
	// Holder, LockWait and LockTTL take each cluster path's lock, so no
	// deploy runs while its inventory is taken apart; zero values take
	// deploy.DefaultOptions's.
	Holder            string
	LockWait, LockTTL time.Duration
	// Observer receives each step as it happens.
	Observer func(deploy.Event)
}

// Run removes slipway's footprint from the cluster: inventories,
// locks, slipway's system objects and (for a full uninstall) the
// slipway-system namespace. Deployed objects stay running unless Prune.
func Run(ctx context.Context, c *cluster.Cluster, opts Options) *result.Uninstall {
	start := time.Now()
	// Zero values take the deploy's defaults: a zero lock TTL would be a
	// Lease the API server refuses.
	defaults := deploy.DefaultOptions()
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = defaults.LockTTL
	}
	if opts.LockWait <= 0 {
		opts.LockWait = defaults.LockWait
	}
	if opts.Holder == "" {
		opts.Holder = defaults.Holder
	}
	u := &uninstaller{c: c, opts: opts, out: &result.Uninstall{DryRun: opts.DryRun, ClusterPaths: opts.ClusterPaths}}
	u.run(ctx)
	u.out.Duration = time.Since(start)
	return u.out
}

type uninstaller struct {
	c    *cluster.Cluster
	opts Options
	out  *result.Uninstall
	cur  *result.UninstallSection
}

func (u *uninstaller) section(title string) {
	u.out.Sections = append(u.out.Sections, &result.UninstallSection{Title: title})
	u.cur = u.out.Sections[len(u.out.Sections)-1]
	u.emit("► %s", title)
}

func (u *uninstaller) emit(format string, args ...any) {
	if u.opts.Observer != nil {
		u.opts.Observer(deploy.Event{Message: fmt.Sprintf(format, args...)})
	}
}

func (u *uninstaller) record(ch result.Change) {
	u.cur.Changes = append(u.cur.Changes, ch)
	switch ch.Action {
	case result.ActionFailed:
		u.emit("✗ %s: %s", ch.ID, ch.Message)
	default:
		u.emit("✔ %s %s", ch.ID, ch.Message)
	}
}

func (u *uninstaller) fail(format string, args ...any) {
	u.out.Errors = append(u.out.Errors, fmt.Sprintf(format, args...))
	u.emit("✗ "+format, args...)
}

// member is a live object of an inventory.
type member struct {
	live *unstructured.Unstructured
	inv  *deploy.Inventory
}

func (u *uninstaller) run(ctx context.Context) {
	ns := &corev1.Namespace{}
	if err := u.c.Client.Get(ctx, client.ObjectKey{Name: deploy.SystemNamespace}, ns); apierrors.IsNotFound(err) {
		u.emit("✔ nothing to uninstall: namespace %s does not exist", deploy.SystemNamespace)
		return
	} else if err != nil {
		u.fail("reading namespace %s: %v", deploy.SystemNamespace, err)
		return
	}
	invs, err := u.inventories(ctx)
	if err != nil {
		u.fail("%v", err)
		return
	}
	if len(u.opts.ClusterPaths) > 0 && len(invs) == 0 {
		u.fail("no inventory of %s on this cluster: nothing was deployed from it, or it was uninstalled already", strings.Join(u.opts.ClusterPaths, ", "))
		return
	}
	release, err := u.lockPaths(ctx, invs)
	defer release()
	if err != nil {
		u.fail("%v", err)
		return
	}
	members, err := u.members(ctx, invs)
	if err != nil {
		u.fail("%v", err)
		return
	}
	if !u.handleReleases(ctx, invs) {
		return
	}
	system, workload := splitSystem(members)
	if u.opts.Prune {
		u.deleteMembers(ctx, workload)
	} else {
		u.section("removing slipway's ApplySet labels from deployed objects (they keep running)")
		u.unlabel(ctx, workload)
	}
	if u.out.Failed() {
		// The inventories are the only record of what is left: keep them
		// (and slipway-system) so running uninstall again finishes the job.
		u.fail("kept the inventories and %s so that running uninstall again finishes the job", deploy.SystemNamespace)
		return
	}
	u.deleteRecords(ctx, invs)
	// slipway's own objects go last: the run may be using the deployer's
	// identity, which loses its rights with the binding.
	if len(system) > 0 {
		u.section("deleting slipway's system objects")
		u.deleteAndWait(ctx, objectsOf(system))
	}
	if len(u.opts.ClusterPaths) > 0 {
		return // other cluster paths still use slipway-system
	}
	u.deleteClusterWide(ctx)
}

// lockPaths takes the lock of every cluster path being uninstalled: a
// deploy must not grow an inventory that is being taken apart. The
// returned function releases the locks taken, even after an error.
func (u *uninstaller) lockPaths(ctx context.Context, invs []*deploy.Inventory) (func(), error) {
	var held []func(context.Context) error
	release := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, rel := range held {
			_ = rel(rctx)
		}
	}
	if u.opts.DryRun {
		return release, nil
	}
	paths := map[string]bool{}
	for _, inv := range invs {
		paths[inv.ClusterPath] = true
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		rel, err := deploy.AcquireLock(ctx, u.c.Client, p, u.opts.Holder, u.opts.LockTTL, u.opts.LockWait, func(holder string) { u.emit("waiting for the lock of %s held by %s", p, holder) })
		if err != nil {
			return release, err
		}
		held = append(held, rel)
	}
	return release, nil
}

// handleReleases uninstalls the Helm releases slipway installed with
// --prune (first, like the workloads they are), otherwise leaves them to
// Helm, which keeps managing them (helm list, helm uninstall). It reports
// whether the uninstall may go on.
func (u *uninstaller) handleReleases(ctx context.Context, invs []*deploy.Inventory) bool {
	releases := releaseEntries(invs)
	if len(releases) == 0 {
		return true
	}
	if u.opts.Prune {
		u.uninstallReleases(ctx, releases)
		if u.out.Failed() {
			u.fail("stopped before deleting the other objects: a Helm release could not be uninstalled")
			return false
		}
		return true
	}
	u.section("leaving Helm releases to Helm (they keep running; helm list shows them)")
	for _, r := range releases {
		u.record(result.Change{ID: r.entry.ObjectID(), Action: result.ActionUnmanaged, Message: fmt.Sprintf("release %s in %s kept", r.release.Name, r.release.StorageNamespace)})
	}
	return true
}

// splitSystem separates slipway's own objects (the deployer's identity),
// which go last, from the workload.
func splitSystem(members []member) (system, workload []member) {
	for _, m := range members {
		if m.live.GetLabels()[deploy.LabelSystem] == "true" {
			system = append(system, m)
		} else {
			workload = append(workload, m)
		}
	}
	return system, workload
}

// deleteRecords deletes the inventories and the locks of the cluster paths
// uninstalled.
func (u *uninstaller) deleteRecords(ctx context.Context, invs []*deploy.Inventory) {
	u.section("deleting inventories and locks")
	for _, inv := range invs {
		id := result.ObjectID{Kind: "ConfigMap", Namespace: deploy.SystemNamespace, Name: deploy.ParentName(inv.Ref)}
		u.deleteSimple(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: id.Name, Namespace: id.Namespace}}, id)
	}
	leases := &coordinationv1.LeaseList{}
	if err := u.c.Client.List(ctx, leases, client.InNamespace(deploy.SystemNamespace)); err != nil && !apierrors.IsNotFound(err) {
		u.fail("listing locks: %v", err)
	}
	for _, l := range locksOf(leases.Items, u.opts.ClusterPaths) {
		u.deleteSimple(ctx, l, result.ObjectID{Group: "coordination.k8s.io", Kind: "Lease", Namespace: l.Namespace, Name: l.Name})
	}
}

// locksOf picks the cluster-path locks among leases: all of them, or
// those of paths when some are named.
func locksOf(leases []coordinationv1.Lease, paths []string) []*coordinationv1.Lease {
	want := map[string]bool{}
	for _, p := range paths {
		want["lock-"+deploy.ClusterPathLabel(p)] = true
	}
	var out []*coordinationv1.Lease
	for i := range leases {
		l := &leases[i]
		if !strings.HasPrefix(l.Name, "lock-") || (len(want) > 0 && !want[l.Name]) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// deleteClusterWide deletes slipway's cluster-wide RBAC and its namespace,
// once no cluster path uses them.
func (u *uninstaller) deleteClusterWide(ctx context.Context) {
	cl := u.c.Client
	u.section("deleting slipway's cluster-wide RBAC and namespace")
	sel := client.MatchingLabels{deploy.LabelSystem: "true"}
	crbs := &rbacv1.ClusterRoleBindingList{}
	if err := cl.List(ctx, crbs, sel); err != nil {
		u.fail("listing ClusterRoleBindings: %v", err)
	}
	for i := range crbs.Items {
		o := &crbs.Items[i]
		u.deleteSimple(ctx, o, result.ObjectID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding", Name: o.Name})
	}
	crs := &rbacv1.ClusterRoleList{}
	if err := cl.List(ctx, crs, sel); err != nil {
		u.fail("listing ClusterRoles: %v", err)
	}
	for i := range crs.Items {
		o := &crs.Items[i]
		u.deleteSimple(ctx, o, result.ObjectID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: o.Name})
	}
	nsObj := &unstructured.Unstructured{}
	nsObj.SetAPIVersion("v1")
	nsObj.SetKind("Namespace")
	nsObj.SetName(deploy.SystemNamespace)
	u.deleteAndWait(ctx, []*unstructured.Unstructured{nsObj})
}

// inventories lists the inventories the uninstall covers.
func (u *uninstaller) inventories(ctx context.Context) ([]*deploy.Inventory, error) {
	list := &corev1.ConfigMapList{}
	if err := u.c.Client.List(ctx, list, client.InNamespace(deploy.SystemNamespace), client.MatchingLabels{deploy.LabelManagedBy: deploy.ManagedByValue}); err != nil {
		return nil, fmt.Errorf("listing inventories: %w", err)
	}
	want := map[string]bool{}
	for _, p := range u.opts.ClusterPaths {
		want[p] = true
	}
	var out []*deploy.Inventory
	for i := range list.Items {
		cm := &list.Items[i]
		path := cm.Annotations[deploy.AnnotationClusterPath]
		ref := cm.Annotations[deploy.AnnotationKustomization]
		if path == "" || ref == "" || (len(want) > 0 && !want[path]) {
			continue
		}
		inv, err := deploy.ReadInventory(cm, path)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ClusterPath != out[j].ClusterPath {
			return out[i].ClusterPath < out[j].ClusterPath
		}
		return out[i].Ref.String() < out[j].Ref.String()
	})
	return out, nil
}

// members reads the live objects that still belong to the inventories.
// Objects gone already, or taken over by another ApplySet, are left alone.
func (u *uninstaller) members(ctx context.Context, invs []*deploy.Inventory) ([]member, error) {
	type job struct {
		e   deploy.Entry
		inv *deploy.Inventory
	}
	var jobs []job
	seen := map[string]bool{}
	for _, inv := range invs {
		for _, e := range inv.Entries {
			if !seen[e.ID] {
				seen[e.ID] = true
				jobs = append(jobs, job{e, inv})
			}
		}
	}
	found := make([]*unstructured.Unstructured, len(jobs))
	errs := make([]error, len(jobs))
	parallel(len(jobs), func(i int) {
		stub, err := jobs[i].e.Object()
		if err != nil {
			return
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(stub.GroupVersionKind())
		err = u.c.Client.Get(ctx, client.ObjectKeyFromObject(stub), live)
		switch {
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		case err != nil:
			errs[i] = fmt.Errorf("reading %s: %w", jobs[i].e.ObjectID(), err)
		case live.GetLabels()[deploy.LabelApplySetPartOf] == deploy.ApplySetID(jobs[i].inv.Ref):
			found[i] = live
		}
	})
	var out []member
	for i, live := range found {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if live != nil {
			out = append(out, member{live: live, inv: jobs[i].inv})
		}
	}
	return out, nil
}

// parallel runs fn for 0..n-1 with bounded concurrency: uninstalling a
// large cluster path is one request per object.
func parallel(n int, fn func(i int)) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

// unlabel removes the ApplySet membership label so no tool treats the
// objects as managed any more; they keep running.
func (u *uninstaller) unlabel(ctx context.Context, ms []member) {
	changes := make([]result.Change, len(ms))
	parallel(len(ms), func(i int) {
		id := result.IDOf(ms[i].live)
		if u.opts.DryRun {
			changes[i] = result.Change{ID: id, Action: result.ActionUnmanaged, Message: "would keep running, no longer managed"}
			return
		}
		patch := []byte(`{"metadata":{"labels":{"` + deploy.LabelApplySetPartOf + `":null}}}`)
		if err := u.c.Client.Patch(ctx, ms[i].live, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
			changes[i] = result.Change{ID: id, Action: result.ActionFailed, Message: "removing the ApplySet label: " + err.Error()}
			return
		}
		changes[i] = result.Change{ID: id, Action: result.ActionUnmanaged, Message: "kept, no longer managed"}
	})
	for _, c := range changes {
		u.record(c)
	}
}

// deleteMembers deletes workload objects in reverse apply order:
// workloads first, then Namespaces, CRDs last (deleting a CRD deletes its
// custom resources, which must get their own chance to clean up first).
func (u *uninstaller) deleteMembers(ctx context.Context, ms []member) {
	var kept []member
	var rest, namespaces, crds []*unstructured.Unstructured
	// Deleting a namespace deletes what is in it: a namespace holding an
	// object the user marked prune: disabled is kept too (Flux would
	// delete it and take the object with it).
	holding := map[string]bool{}
	for _, m := range ms {
		if pruneDisabled(m.live) {
			holding[m.live.GetNamespace()] = true
		}
	}
	for _, m := range ms {
		if pruneDisabled(m.live) || (ssautil.IsNamespace(m.live) && holding[m.live.GetName()]) {
			kept = append(kept, m)
			continue
		}
		switch {
		case ssautil.IsCRD(m.live):
			crds = append(crds, m.live)
		case ssautil.IsNamespace(m.live):
			namespaces = append(namespaces, m.live)
		default:
			rest = append(rest, m.live)
		}
	}
	sort.Sort(sort.Reverse(ssa.SortableUnstructureds(rest)))
	if len(kept) > 0 {
		u.section("keeping objects with " + deploy.AnnotationPrune + ": disabled, and the namespaces holding them")
		u.unlabel(ctx, kept)
	}
	stages := []struct {
		title string
		objs  []*unstructured.Unstructured
	}{
		{"deleting deployed objects", rest},
		{"deleting namespaces", namespaces},
		{"deleting custom resource definitions", crds},
	}
	for i, stage := range stages {
		if len(stage.objs) == 0 {
			continue
		}
		u.section(stage.title)
		u.deleteAndWait(ctx, stage.objs)
		if u.out.Failed() && i < len(stages)-1 {
			// A later stage would delete what holds the stragglers (their
			// namespace, their CRD) out from under them.
			u.fail("stopped before the next stage (%s): objects of this one are still there", stages[i+1].title)
			return
		}
	}
}

// deleteAndWait deletes objects and waits until they are gone, removing
// finalizers of stragglers when asked to.
func (u *uninstaller) deleteAndWait(ctx context.Context, objs []*unstructured.Unstructured) {
	if u.opts.DryRun {
		for _, o := range objs {
			u.record(result.Change{ID: result.IDOf(o), Action: result.ActionDeleted, Message: "would be deleted"})
		}
		return
	}
	bg := metav1.DeletePropagationBackground
	errs := make([]error, len(objs))
	parallel(len(objs), func(i int) {
		errs[i] = u.c.Client.Delete(ctx, objs[i], &client.DeleteOptions{PropagationPolicy: &bg})
	})
	var pending []*unstructured.Unstructured
	for i, o := range objs {
		switch err := errs[i]; {
		case apierrors.IsNotFound(err):
			u.record(result.Change{ID: result.IDOf(o), Action: result.ActionDeleted, Message: "deleted"})
		case err != nil:
			u.record(result.Change{ID: result.IDOf(o), Action: result.ActionFailed, Message: "deleting: " + err.Error()})
		default:
			pending = append(pending, o)
		}
	}
	pending = u.waitGone(ctx, pending, u.opts.Timeout)
	if len(pending) > 0 && u.opts.ForceFinalizers {
		for _, o := range pending {
			patch := []byte(`{"metadata":{"finalizers":null}}`)
			if err := u.c.Client.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch)); err == nil {
				u.emit("✔ %s finalizers removed", result.IDOf(o))
			}
		}
		pending = u.waitGone(ctx, pending, 30*time.Second)
	}
	for _, o := range pending {
		msg := "still terminating after " + u.opts.Timeout.String()
		if fs := u.finalizers(ctx, o); len(fs) > 0 {
			msg += " (finalizers: " + strings.Join(fs, ", ") + ")"
			if !u.opts.ForceFinalizers {
				msg += "; pass --force-finalizers to remove them"
			}
		}
		u.record(result.Change{ID: result.IDOf(o), Action: result.ActionFailed, Message: msg})
	}
}

// waitGone polls until the objects no longer exist, reporting each as it
// goes, and returns those still present at the deadline.
func (u *uninstaller) waitGone(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) []*unstructured.Unstructured {
	deadline := time.Now().Add(timeout)
	for len(objs) > 0 {
		gone := make([]bool, len(objs))
		parallel(len(objs), func(i int) {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(objs[i].GroupVersionKind())
			err := u.c.Client.Get(ctx, client.ObjectKeyFromObject(objs[i]), live)
			gone[i] = apierrors.IsNotFound(err) || meta.IsNoMatchError(err)
		})
		var left []*unstructured.Unstructured
		for i, o := range objs {
			if gone[i] {
				u.record(result.Change{ID: result.IDOf(o), Action: result.ActionDeleted, Message: "deleted"})
				continue
			}
			left = append(left, o)
		}
		objs = left
		if len(objs) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return objs
		case <-time.After(250 * time.Millisecond):
		}
	}
	return objs
}

func (u *uninstaller) finalizers(ctx context.Context, o *unstructured.Unstructured) []string {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	if err := u.c.Client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
		return nil
	}
	fs := live.GetFinalizers()
	if len(fs) == 0 && live.GetKind() == "Namespace" {
		fs, _, _ = unstructured.NestedStringSlice(live.Object, "spec", "finalizers")
	}
	return fs
}

// deleteSimple deletes one of slipway's bookkeeping objects.
func (u *uninstaller) deleteSimple(ctx context.Context, o client.Object, id result.ObjectID) {
	if u.opts.DryRun {
		u.record(result.Change{ID: id, Action: result.ActionDeleted, Message: "would be deleted"})
		return
	}
	if err := u.c.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
		u.record(result.Change{ID: id, Action: result.ActionFailed, Message: "deleting: " + err.Error()})
		return
	}
	u.record(result.Change{ID: id, Action: result.ActionDeleted, Message: "deleted"})
}

func objectsOf(ms []member) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(ms))
	for i, m := range ms {
		out[i] = m.live
	}
	return out
}

func pruneDisabled(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()[deploy.AnnotationPrune] == "disabled" || u.GetLabels()[deploy.AnnotationPrune] == "disabled"
}

type releaseEntry struct {
	inv     *deploy.Inventory
	entry   deploy.Entry
	release deploy.ReleaseAt
}

// releaseEntries are the Helm releases recorded in the inventories: each
// HelmRelease's current release and those it installed under a former
// release name or namespace and that are not uninstalled yet.
func releaseEntries(invs []*deploy.Inventory) []releaseEntry {
	var out []releaseEntry
	for _, inv := range invs {
		for _, e := range inv.Entries {
			if e.Release == "" && e.FormerReleases == "" {
				continue
			}
			for _, r := range e.AllReleases() {
				out = append(out, releaseEntry{inv: inv, entry: e, release: r})
			}
		}
	}
	return out
}

// uninstallReleases uninstalls Helm releases slipway installed.
func (u *uninstaller) uninstallReleases(ctx context.Context, releases []releaseEntry) {
	u.section("uninstalling Helm releases")
	if u.opts.DryRun {
		for _, r := range releases {
			u.record(result.Change{ID: r.entry.ObjectID(), Action: result.ActionDeleted, Message: fmt.Sprintf("release %s in %s would be uninstalled", r.release.Name, r.release.StorageNamespace)})
		}
		return
	}
	rel, err := helmrelease.New(u.c.Config, helmrelease.Options{Timeout: u.opts.Timeout})
	if err != nil {
		u.fail("connecting Helm: %v", err)
		return
	}
	for _, r := range releases {
		id := r.entry.ObjectID()
		rd := rel.Uninstall(ctx, result.KustomizationRef{Namespace: id.Namespace, Name: id.Name}, r.release.Name, r.release.StorageNamespace)
		if rd.Action == result.ReleaseFailed {
			u.record(result.Change{ID: id, Action: result.ActionFailed, Message: fmt.Sprintf("uninstalling release %s: %s", r.release.Name, rd.Message)})
			continue
		}
		u.record(result.Change{ID: id, Action: result.ActionDeleted, Message: fmt.Sprintf("release %s in %s uninstalled", r.release.Name, r.release.StorageNamespace)})
	}
}
