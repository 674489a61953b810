package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
)

// Flux's per-object annotations and labels, honoured as kustomize-controller does.
const (
	annSSA         = "kustomize.toolkit.fluxcd.io/ssa"
	annPrune       = "kustomize.toolkit.fluxcd.io/prune"
	annForce       = "kustomize.toolkit.fluxcd.io/force"
	annReconcile   = "kustomize.toolkit.fluxcd.io/reconcile"
	labelOwnerName = "kustomize.toolkit.fluxcd.io/name"
	labelOwnerNS   = "kustomize.toolkit.fluxcd.io/namespace"
	helmManagedBy  = "Helm"
)

// interpreted reports objects slipway reads rather than applies: Flux's
// own kinds need Flux's controllers, which slipway replaces.
// Flux Operator's ResourceSets are rendered by the build (their objects
// join the Kustomization that holds them), so they are interpreted too:
// applying them as well would have the operator, where it runs, manage the
// same objects a second time.
func interpreted(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	if gvk.Group == "fluxcd.controlplane.io" {
		return gvk.Kind == "ResourceSet" || gvk.Kind == "ResourceSetInputProvider"
	}
	return strings.HasSuffix(gvk.Group, ".toolkit.fluxcd.io") || gvk.Group == "source.extensions.fluxcd.io"
}

// applyOptions mirror kustomize-controller's.
func (d *Deployer) applyOptions(ks *kustomizev1.Kustomization, timeout time.Duration) ssa.ApplyOptions {
	o := ssa.DefaultApplyOptions()
	o.Force = ks.Spec.Force
	o.ExclusionSelector = map[string]string{annReconcile: "disabled", annSSA: "Ignore"}
	o.IfNotPresentSelector = map[string]string{annSSA: "IfNotPresent"}
	o.ForceSelector = map[string]string{annForce: "enabled"}
	o.WaitTimeout = timeout
	// ssa waits for CRDs and Namespaces between stages by polling; Flux's
	// 2s interval made every Kustomization pay ~2s even when they already
	// existed. A short interval costs a few cheap requests instead.
	o.WaitInterval = 200 * time.Millisecond
	o.Cleanup = ssa.ApplyCleanupOptions{
		Annotations: []string{"kubectl.kubernetes.io/last-applied-configuration"},
		FieldManagers: []ssa.FieldManager{
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
			{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
		},
		Exclusions: map[string]string{annSSA: "Merge"},
	}
	return o
}

// deployOne applies one Kustomization: check, record the inventory, apply
// what changed, prune, wait for health, then install its Helm releases.
func (d *Deployer) deployOne(ctx context.Context, clusterPath string, kb *result.KustomizationBuild, live *liveCache) *result.KustomizationDeploy {
	start := time.Now()
	ref := kb.Ref
	kd := &result.KustomizationDeploy{Ref: ref, Origin: kb.Origin, Status: result.StatusApplied, Changes: []result.Change{}}
	defer func() { kd.Duration = time.Since(start) }()
	// HelmReleases depending on this Kustomization read its outcome.
	defer func() { d.helm.of(clusterPath).recordKustomization(kd) }()
	// fail records the first failure; stages say why with result.Because,
	// else why is the reason given here.
	fail := func(why result.Reason, err error) *result.KustomizationDeploy {
		kd.Fail(result.StatusFailed, result.ReasonOf(err, why), err)
		d.emit(clusterPath, &ref, "✗ %s", err)
		return kd
	}
	if kb.Err != nil {
		return fail(build.ReasonOf(kb.Err, result.ReasonBuildFailed), fmt.Errorf("not deployed, the build failed: %w", kb.Err))
	}
	if kb.Suspended {
		kd.Status = result.StatusSuspended
		d.emit(clusterPath, &ref, "suspended: skipped")
		return kd
	}
	ks := kb.Spec
	if ks != nil && ks.Spec.KubeConfig != nil {
		return fail(result.ReasonUnsupported, errors.New("spec.kubeConfig (deploying to a remote cluster) is not supported; nothing of this Kustomization was applied"))
	}
	timeout := kustomizationTimeout(ks, d.opts.Timeout)
	// Helm releases have their own timeouts (spec.timeout, per action).
	releaseCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	want, err := desiredObjects(kb)
	if err != nil {
		return fail(result.ReasonDecryptionFailed, err)
	}
	old, err := d.inv.Get(ctx, ref, clusterPath)
	if err != nil {
		return fail(result.ReasonInventoryFailed, err)
	}
	known := old.IDs()
	id := ApplySetID(ref)
	want.withEntries(id, helmEntries(kb, known))
	if err := checkNotEmptied(want, old, d.opts.AllowEmpty); err != nil {
		return fail(result.ReasonEmptyBuild, err)
	}
	// Every object is checked, members included: an inventory written
	// before a failed apply lists objects that were never created, and
	// someone else may have created them since.
	if err := d.checkOwnership(ctx, want.objects, id, ref, live); err != nil {
		return fail(result.ReasonOwnershipConflict, err)
	}
	if d.opts.DryRun {
		kd = d.dryRun(ctx, clusterPath, kd, ks, old, want.objects, want.next, want.origins)
		if kd.Status == result.StatusApplied {
			d.reconcileReleases(releaseCtx, clusterPath, kb, kd, want.next)
		}
		return kd
	}
	stored := known
	if union := recordFirst(want, known, old.exists); union != nil {
		if err := d.inv.Write(ctx, &Inventory{Ref: ref, ClusterPath: clusterPath, Entries: values(union)}); err != nil {
			return fail(result.ReasonInventoryFailed, err)
		}
		stored = union
	}
	if err := d.applyChanged(ctx, clusterPath, kd, ks, want, known, live, timeout); err != nil {
		return fail(result.ReasonApplyFailed, err)
	}
	final, err := d.pruneAndRecord(ctx, kd, ks, old, want.next, stored)
	if err != nil {
		return fail(result.ReasonPruneFailed, err)
	}
	if waitFor := healthTargets(ks, d.opts.Wait, want.objects, kd.Changes); len(waitFor) > 0 {
		unhealthy, err := d.wait(ctx, clusterPath, ref, waitFor, want.origins)
		kd.Unhealthy = unhealthy
		if err != nil {
			return fail(result.ReasonHealthCheckFailed, err)
		}
	}
	retired := d.reconcileReleases(releaseCtx, clusterPath, kb, kd, final)
	if forgetRetired(final, retired) {
		if err := d.inv.Write(ctx, &Inventory{Ref: ref, ClusterPath: clusterPath, Entries: values(final)}); err != nil {
			return fail(result.ReasonInventoryFailed, err)
		}
	}
	return kd
}

// applyChanged applies the objects whose live state may differ from the
// build (the fast path answers the others without a request) and records
// every object's outcome in kd.
func (d *Deployer) applyChanged(ctx context.Context, clusterPath string, kd *result.KustomizationDeploy, ks *kustomizev1.Kustomization,
	want *desired, known map[string]Entry, live *liveCache, timeout time.Duration) error {
	var toApply []*unstructured.Unstructured
	for _, u := range want.objects {
		e := want.next[EntryOf(u).ID]
		if live.unchanged(u, e.Hash, known[e.ID]) {
			kd.Changes = append(kd.Changes, result.Change{ID: result.IDOf(u), Action: result.ActionUnchanged, Origin: want.origins[e.ID]})
			continue
		}
		toApply = append(toApply, u)
	}
	cs, err := d.applyStaged(ctx, toApply, d.applyOptions(ks, timeout))
	if cs != nil {
		for _, e := range cs.Entries {
			kd.Changes = append(kd.Changes, change(e, want.origins))
		}
	}
	if err != nil {
		return explainApplyError(err)
	}
	for _, c := range kd.Changes {
		if c.Action != result.ActionUnchanged {
			d.emit(clusterPath, &kd.Ref, "%s %s", c.ID, c.Action)
		}
	}
	return nil
}

// pruneAndRecord deletes what left the build (when pruning is on) and
// stores the final inventory: next, plus the entries whose delete failed,
// which stay tracked and are retried by the next deploy.
func (d *Deployer) pruneAndRecord(ctx context.Context, kd *result.KustomizationDeploy, ks *kustomizev1.Kustomization,
	old *Inventory, next, stored map[string]Entry) (map[string]Entry, error) {
	final := next
	if d.opts.Prune && ks.Spec.Prune {
		remaining, changes, err := d.prune(ctx, old, next)
		kd.Changes = append(kd.Changes, changes...)
		for _, e := range remaining {
			final[e.ID] = e
		}
		if err != nil {
			_ = d.inv.Write(ctx, &Inventory{Ref: old.Ref, ClusterPath: old.ClusterPath, Entries: values(final)})
			return nil, err
		}
	}
	if !sameEntries(final, stored) {
		if err := d.inv.Write(ctx, &Inventory{Ref: old.Ref, ClusterPath: old.ClusterPath, Entries: values(final)}); err != nil {
			return nil, result.Because(result.ReasonInventoryFailed, err)
		}
	}
	return final, nil
}

// forgetRetired drops the former releases that were uninstalled from their
// entries, and reports whether any entry changed.
func forgetRetired(entries map[string]Entry, retired map[string][]ReleaseAt) bool {
	changed := false
	for id, gone := range retired {
		e, ok := entries[id]
		if !ok || len(gone) == 0 {
			continue
		}
		entries[id] = e.withFormer(without(e.Former(), gone))
		changed = true
	}
	return changed
}

// checkOwnership refuses objects another ApplySet, another Flux
// Kustomization or Helm manages, unless Adopt.
func (d *Deployer) checkOwnership(ctx context.Context, objects []*unstructured.Unstructured, id string, ref result.KustomizationRef, live *liveCache) error {
	if d.opts.Adopt || len(objects) == 0 {
		return nil
	}
	// Nothing can live in a namespace that does not exist: ask once per
	// namespace instead of once per object.
	nsExists := map[string]bool{}
	for _, u := range objects {
		if _, known := live.get(EntryOf(u).ID); !known && u.GetNamespace() != "" {
			nsExists[u.GetNamespace()] = true
		}
	}
	for ns := range nsExists {
		exists, err := live.namespaceExists(ctx, d.cluster.Client, ns)
		if err != nil {
			return fmt.Errorf("reading namespace %s: %w", ns, err)
		}
		nsExists[ns] = exists
	}
	conflicts := make([]string, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, u := range objects {
		g.Go(func() error {
			// The prefetched ApplySet members answer without a request;
			// an object absent from them is read.
			cur, ok := live.get(EntryOf(u).ID)
			if !ok && u.GetNamespace() != "" && !nsExists[u.GetNamespace()] {
				d.absent.markAbsent(u)
				return nil
			}
			if !ok {
				cur = &unstructured.Unstructured{}
				cur.SetGroupVersionKind(u.GroupVersionKind())
				err := d.cluster.Client.Get(gctx, client.ObjectKeyFromObject(u), cur)
				if err != nil {
					if apierrors.IsNotFound(err) || isNoMatch(err) {
						d.absent.markAbsent(u)
						return nil
					}
					return fmt.Errorf("reading %s: %w", result.IDOf(u), err)
				}
			}
			d.absent.forget(u)
			l := cur.GetLabels()
			switch {
			case l[LabelApplySetPartOf] != "" && l[LabelApplySetPartOf] != id:
				conflicts[i] = fmt.Sprintf("%s belongs to another ApplySet (%s)", result.IDOf(u), l[LabelApplySetPartOf])
			case l[LabelApplySetPartOf] == "" && l[labelOwnerName] != "" && (l[labelOwnerName] != ref.Name || l[labelOwnerNS] != ref.Namespace):
				conflicts[i] = fmt.Sprintf("%s is managed by Kustomization %s/%s", result.IDOf(u), l[labelOwnerNS], l[labelOwnerName])
			case l[LabelManagedBy] == helmManagedBy:
				conflicts[i] = fmt.Sprintf("%s is managed by Helm", result.IDOf(u))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var msgs []string
	for _, c := range conflicts {
		if c != "" {
			msgs = append(msgs, c)
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("ownership conflict, nothing applied (use --adopt to take the objects over): %s", strings.Join(msgs, "; "))
	}
	return nil
}

// pruneObjects deletes inventory entries absent from next, in reverse apply
// order, only when the live object still belongs to this inventory. It
// returns the entries that could not be deleted.
func (d *Deployer) pruneObjects(ctx context.Context, old *Inventory, next map[string]Entry) ([]Entry, []result.Change, error) {
	var stale []*unstructured.Unstructured
	staleEntries := map[string]Entry{}
	for _, e := range old.Entries {
		if _, keep := next[e.ID]; keep {
			continue
		}
		u, err := e.Object()
		if err != nil {
			continue // a malformed entry cannot be addressed; drop it
		}
		stale = append(stale, u)
		staleEntries[e.ID] = e
	}
	if len(stale) == 0 {
		return nil, nil, nil
	}
	opts := ssa.DefaultDeleteOptions()
	opts.Inclusions = map[string]string{LabelApplySetPartOf: ApplySetID(old.Ref)}
	opts.Exclusions = map[string]string{annPrune: "disabled"}
	var changes []result.Change
	if d.opts.DryRun {
		// Announce what DeleteAll would do: it skips objects that are no
		// longer ours and those with prune disabled.
		for _, u := range stale {
			c := result.Change{ID: result.IDOf(u), Action: result.ActionDeleted, Message: "would be deleted"}
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(u.GroupVersionKind())
			if err := d.cluster.Client.Get(ctx, client.ObjectKeyFromObject(u), live); err == nil &&
				(live.GetLabels()[LabelApplySetPartOf] != ApplySetID(old.Ref) || ssautil.AnyInMetadata(live, opts.Exclusions)) {
				c.Action, c.Message = result.ActionSkipped, "would not be deleted: prune disabled, or no longer owned by this Kustomization"
			}
			changes = append(changes, c)
		}
		return nil, changes, nil
	}
	cs, err := d.rm.DeleteAll(ctx, stale, opts)
	var remaining []Entry
	if cs != nil {
		for _, e := range cs.Entries {
			c := change(e, nil)
			key := c.ID.InventoryKey()
			switch e.Action {
			case ssa.DeletedAction:
				d.emit(old.ClusterPath, &old.Ref, "%s deleted", c.ID)
			case ssa.SkippedAction:
				c.Message = "not deleted: prune disabled, or no longer owned by this Kustomization"
			default:
				c.Action = result.ActionFailed
				remaining = append(remaining, staleEntries[key])
			}
			changes = append(changes, c)
		}
	}
	if err != nil {
		return remaining, changes, fmt.Errorf("pruning: %w", err)
	}
	return remaining, changes, nil
}

func (d *Deployer) dryRun(ctx context.Context, clusterPath string, kd *result.KustomizationDeploy, ks *kustomizev1.Kustomization,
	old *Inventory, objects []*unstructured.Unstructured, next map[string]Entry, origins map[string]result.Origin) *result.KustomizationDeploy {
	opts := ssa.DefaultDiffOptions()
	// The selectors and force of the real apply (applyOptions).
	opts.Exclusions = map[string]string{annReconcile: "disabled", annSSA: "Ignore"}
	opts.IfNotPresentSelector = map[string]string{annSSA: "IfNotPresent"}
	opts.ForceSelector = map[string]string{annForce: "enabled"}
	opts.Force = ks.Spec.Force
	newNamespaces := map[string]bool{}
	for _, u := range objects {
		if u.GetKind() == "Namespace" && u.GroupVersionKind().Group == "" {
			ns := &unstructured.Unstructured{}
			ns.SetGroupVersionKind(u.GroupVersionKind())
			if err := d.cluster.Client.Get(ctx, client.ObjectKey{Name: u.GetName()}, ns); apierrors.IsNotFound(err) {
				newNamespaces[u.GetName()] = true
			}
		}
	}
	changes := make([]result.Change, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, u := range objects {
		g.Go(func() error {
			e, _, _, err := d.rm.Diff(gctx, u, opts)
			if err != nil {
				if apierrors.IsNotFound(err) && newNamespaces[u.GetNamespace()] {
					// Objects are dry-run one by one, so the server cannot
					// see the Namespace this same change creates.
					changes[i] = result.Change{ID: result.IDOf(u), Action: result.ActionCreated,
						Message: "in a namespace this change creates: not checked by the server", Origin: origins[EntryOf(u).ID]}
					return nil
				}
				changes[i] = result.Change{ID: result.IDOf(u), Action: result.ActionFailed, Message: explainApplyError(err).Error(), Origin: origins[EntryOf(u).ID]}
				return nil
			}
			c := change(*e, origins)
			// ssa names a skipped object after its live copy, which
			// has no name when the object does not exist.
			c.ID, c.Origin = result.IDOf(u), origins[EntryOf(u).ID]
			changes[i] = c
			return nil
		})
	}
	_ = g.Wait()
	kd.Changes = changes
	for _, c := range changes {
		if c.Action == result.ActionFailed {
			kd.Fail(result.StatusFailed, result.ReasonApplyFailed, errors.New("server-side dry-run failed for "+c.ID.String()+": "+c.Message))
		}
	}
	if d.opts.Prune && ks.Spec.Prune {
		_, pruned, _ := d.prune(ctx, old, next)
		kd.Changes = append(kd.Changes, pruned...)
	}
	return kd
}

func change(e ssa.ChangeSetEntry, origins map[string]result.Origin) result.Change {
	m := e.ObjMetadata
	id := result.ObjectID{Group: m.GroupKind.Group, Kind: m.GroupKind.Kind, Namespace: m.Namespace, Name: m.Name}
	a := result.Action(e.Action)
	if e.Action == ssa.UnknownAction {
		a = result.ActionFailed
	}
	return result.Change{ID: id, Action: a, Origin: origins[id.InventoryKey()]}
}

// explainApplyError turns the apply errors users hit most into advice.
func explainApplyError(err error) error {
	var dr *ssaerrors.DryRunErr
	msg := err.Error()
	if errors.As(err, &dr) || strings.Contains(msg, "field is immutable") {
		if strings.Contains(msg, "immutable") {
			return fmt.Errorf("%w (an immutable field changed: set spec.force: true on the Kustomization or annotate the object kustomize.toolkit.fluxcd.io/force: enabled to recreate it)", err)
		}
	}
	return err
}

// isNoMatch reports an object whose kind the cluster does not serve (its
// CRD is gone): the REST mapper's typed error, classified by apimachinery;
// the API server's "could not find the requested resource" is a NotFound.
func isNoMatch(err error) bool {
	return meta.IsNoMatchError(err)
}

func sameEntries(a, b map[string]Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func values(m map[string]Entry) []Entry {
	out := make([]Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
