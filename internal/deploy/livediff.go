package deploy

import (
	"context"
	"fmt"
	"sort"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/internal/result"
)

// LiveState is a cluster path as the cluster has it and as applying the
// build would leave it, in the shape of two builds, so the offline diff
// compares them: objects the apply would create appear in Desired only,
// objects it would prune in Live only, objects it would change in both
// (live, and the server-side dry-run result), unchanged objects in
// neither. Server-owned fields are removed from both sides; defaults the
// server sets appear on both sides (the dry-run result has them), so they
// never show as changes.
type LiveState struct {
	Live, Desired *result.ClusterBuild
}

// liveNoise are fields the server owns; they are not part of a change.
var liveNoise = [][]string{
	{"metadata", "managedFields"},
	{"metadata", "resourceVersion"},
	{"metadata", "uid"},
	{"metadata", "generation"},
	{"metadata", "creationTimestamp"},
	{"metadata", "selfLink"},
	{"status"},
}

func cleanLive(u *unstructured.Unstructured) *unstructured.Unstructured {
	u = u.DeepCopy()
	for _, f := range liveNoise {
		unstructured.RemoveNestedField(u.Object, f...)
	}
	if a := u.GetAnnotations(); a != nil {
		delete(a, "kubectl.kubernetes.io/last-applied-configuration")
		if len(a) == 0 {
			unstructured.RemoveNestedField(u.Object, "metadata", "annotations")
		} else {
			u.SetAnnotations(a)
		}
	}
	return u
}

// LiveDiff asks the cluster what applying a cluster path's build would
// change, without changing anything: a server-side dry-run of every
// object, and the objects pruning would delete (inventory members no
// longer built, and what Kustomizations that vanished from the repository
// deployed). Problems (a dry-run the server refuses) are findings.
func (d *Deployer) LiveDiff(ctx context.Context, cb *result.ClusterBuild) (*LiveState, error) {
	live := &result.ClusterBuild{Path: cb.Path, Sensitive: cb.Sensitive}
	desired := &result.ClusterBuild{Path: cb.Path, Sensitive: cb.Sensitive}
	secrets := redact.NewMasker(cb.Sensitive)
	built := map[result.KustomizationRef]bool{}
	releases := &liveReleases{p: d.helm.of(cb.Path), secrets: map[string]*unstructured.Unstructured{}}
	for _, kb := range cb.Kustomizations {
		built[kb.Ref] = true
		lk := &result.KustomizationBuild{Ref: kb.Ref, Origin: kb.Origin, Spec: kb.Spec}
		dk := &result.KustomizationBuild{Ref: kb.Ref, Origin: kb.Origin, Spec: kb.Spec}
		live.Kustomizations = append(live.Kustomizations, lk)
		desired.Kustomizations = append(desired.Kustomizations, dk)
		if kb.Err != nil {
			dk.Err = kb.Err
			continue
		}
		if kb.Suspended {
			continue // never applied: nothing changes
		}
		if err := d.liveKustomization(ctx, cb.Path, kb, lk, dk, desired, secrets); err != nil {
			return nil, err
		}
		for _, rb := range kb.Releases {
			lr, dr, sensitive := d.liveRelease(ctx, cb.Path, kb, rb, desired, releases)
			// Values the deployed release took from Secrets may show in
			// what it would delete: masked as the build's own are.
			live.Sensitive = append(live.Sensitive, sensitive...)
			desired.Sensitive = append(desired.Sensitive, sensitive...)
			if lr != nil {
				lk.Releases = append(lk.Releases, lr)
				dk.Releases = append(dk.Releases, dr)
			}
		}
	}
	// Kustomizations the cluster has and the build no longer does.
	invs, err := d.inv.List(ctx, cb.Path)
	if err != nil {
		return nil, err
	}
	sort.Slice(invs, func(i, j int) bool { return invs[i].Ref.String() < invs[j].Ref.String() })
	for _, inv := range invs {
		if built[inv.Ref] {
			continue
		}
		lk := &result.KustomizationBuild{Ref: inv.Ref}
		objs, err := d.liveMembers(ctx, inv.Ref, inv.Entries, nil)
		if err != nil {
			return nil, err
		}
		lk.Objects = objs
		live.Kustomizations = append(live.Kustomizations, lk)
	}
	return &LiveState{Live: live, Desired: desired}, nil
}

func (d *Deployer) liveKustomization(ctx context.Context, clusterPath string, kb *result.KustomizationBuild, lk, dk *result.KustomizationBuild, desired *result.ClusterBuild, secrets *redact.Masker) error {
	ref := kb.Ref
	opts := ssa.DefaultDiffOptions()
	opts.Exclusions = map[string]string{annReconcile: "disabled", annSSA: "Ignore"}
	opts.IfNotPresentSelector = map[string]string{annSSA: "IfNotPresent"}
	opts.ForceSelector = map[string]string{annForce: "enabled"}
	if kb.Spec != nil {
		opts.Force = kb.Spec.Spec.Force
	}
	id := ApplySetID(ref)
	next := map[string]Entry{}
	for _, o := range kb.Objects {
		if interpreted(o.Object) {
			continue
		}
		u := o.Object.DeepCopy()
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		// As the apply would label it, so the dry-run compares like for like.
		labels[LabelApplySetPartOf] = id
		u.SetLabels(labels)
		next[EntryOf(u).ID] = EntryOf(u)
		if o.Encrypted {
			f := result.Finding{Severity: result.SeverityError, Check: "live", ClusterPath: clusterPath, Kustomization: &ref, Origin: o.Origin,
				Message: fmt.Sprintf("%s is SOPS-encrypted and could not be decrypted: not compared with the cluster", o.ID())}
			desired.Findings = append(desired.Findings, f)
			continue
		}
		cse, liveObj, merged, err := d.rm.Diff(ctx, u, opts)
		if err != nil {
			if apierrors.IsNotFound(err) {
				// Its namespace does not exist yet: it would be created.
				dk.Objects = append(dk.Objects, result.Object{Object: u, Origin: o.Origin})
				continue
			}
			id := o.ID()
			desired.Findings = append(desired.Findings, result.Finding{Severity: result.SeverityError, Check: "live", ClusterPath: clusterPath,
				Kustomization: &ref, Object: &id, Origin: o.Origin, Message: "server-side dry-run: " + explainApplyError(err).Error()})
			continue
		}
		switch cse.Action {
		case ssa.CreatedAction:
			dk.Objects = append(dk.Objects, result.Object{Object: u, Origin: o.Origin})
		case ssa.ConfiguredAction:
			if liveObj == nil || merged == nil {
				continue
			}
			lo, do := cleanLive(liveObj), cleanLive(merged)
			// The live object may hold an older value of a field the build
			// fills from a Secret: hide it where the desired one is secret.
			redact.Counterpart(do.Object, lo.Object, secrets)
			lk.Objects = append(lk.Objects, result.Object{Object: lo, Origin: o.Origin})
			dk.Objects = append(dk.Objects, result.Object{Object: do, Origin: o.Origin})
		}
	}
	if kb.Spec == nil || !kb.Spec.Spec.Prune || !d.opts.Prune {
		return nil
	}
	old, err := d.inv.Get(ctx, ref, clusterPath)
	if err != nil {
		return err
	}
	objs, err := d.liveMembers(ctx, ref, old.Entries, next)
	if err != nil {
		return err
	}
	lk.Objects = append(lk.Objects, objs...)
	return nil
}

// liveReleases is what LiveDiff reads once for all HelmReleases of a
// cluster path: the Releaser, and the Secrets valuesFrom names.
type liveReleases struct {
	p       *pathReleases
	secrets map[string]*unstructured.Unstructured
}

// liveRelease compares a HelmRelease's rendered objects with the cluster
// the way liveKustomization compares a Kustomization's: a server-side
// dry-run of each (forced: Helm owns the fields, and a dry-run changes
// nothing), objects the release would create in Desired only, objects it
// would change in both. The chart and values are the rendered ones on both
// sides, so only object changes show. Objects the release's current
// revision has (its stored manifest) and the rendering no longer does are
// in Live only: the upgrade would delete them (releaseRemovals); reading
// the release is a finding when it fails. A release not rendered or
// suspended is left out. sensitive are the values the HelmRelease takes
// from Secrets, as the cluster has them.
func (d *Deployer) liveRelease(ctx context.Context, clusterPath string, kb *result.KustomizationBuild, rb *result.ReleaseBuild, desired *result.ClusterBuild, lrs *liveReleases) (lr, dr *result.ReleaseBuild, sensitive []string) {
	if rb.Err != nil || rb.Suspended {
		return nil, nil, nil
	}
	shell := func() *result.ReleaseBuild {
		return &result.ReleaseBuild{Ref: rb.Ref, Origin: rb.Origin, ReleaseName: rb.ReleaseName, Namespace: rb.Namespace,
			StorageNamespace: rb.StorageNamespace, Chart: rb.Chart, ValuesDigest: rb.ValuesDigest, DependsOn: rb.DependsOn}
	}
	lr, dr = shell(), shell()
	opts := ssa.DefaultDiffOptions()
	opts.Force = true
	rendered := map[result.ObjectID]bool{}
	for _, o := range append(append([]result.Object(nil), rb.CRDs...), rb.Objects...) {
		rendered[o.ID()] = true
		u := o.Object.DeepCopy()
		cse, liveObj, merged, err := d.rm.Diff(ctx, u, opts)
		if err != nil {
			if apierrors.IsNotFound(err) || isNoMatch(err) {
				dr.Objects = append(dr.Objects, result.Object{Object: u, Origin: o.Origin})
				continue
			}
			id := o.ID()
			desired.Findings = append(desired.Findings, result.Finding{Severity: result.SeverityError, Check: "live", ClusterPath: clusterPath,
				Kustomization: &kb.Ref, Object: &id, Origin: o.Origin,
				Message: fmt.Sprintf("HelmRelease %s: server-side dry-run: %v", rb.Ref, explainApplyError(err))})
			continue
		}
		switch cse.Action {
		case ssa.CreatedAction:
			dr.Objects = append(dr.Objects, result.Object{Object: u, Origin: o.Origin})
		case ssa.ConfiguredAction:
			if liveObj != nil && merged != nil {
				lr.Objects = append(lr.Objects, result.Object{Object: cleanLive(liveObj), Origin: o.Origin})
				dr.Objects = append(dr.Objects, result.Object{Object: cleanLive(merged), Origin: o.Origin})
			}
		}
	}
	for _, o := range kb.Objects {
		if o.ID() == helmReleaseID(rb.Ref) {
			sensitive = helm.SecretValues(o.Object, func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
				return d.liveSecret(ctx, lrs, namespace, name)
			})
			break
		}
	}
	removed, err := d.releaseRemovals(ctx, clusterPath, rb, rendered, lrs)
	if err != nil {
		// As a dry-run the server refuses: the rest is still compared.
		desired.Findings = append(desired.Findings, result.Finding{Severity: result.SeverityError, Check: "live", ClusterPath: clusterPath,
			Kustomization: &kb.Ref, Origin: rb.Origin, Message: err.Error() + " (what the upgrade would delete is unknown)"})
	}
	lr.Objects = append(lr.Objects, removed...)
	return lr, dr, sensitive
}

// releaseRemovals returns the live objects of a release's current revision
// that its new rendering no longer has: what Helm's upgrade would delete
// (it leaves those annotated helm.sh/resource-policy: keep, and those
// already gone).
func (d *Deployer) releaseRemovals(ctx context.Context, clusterPath string, rb *result.ReleaseBuild, rendered map[result.ObjectID]bool, lrs *liveReleases) ([]result.Object, error) {
	if rb.ReleaseName == "" || rb.StorageNamespace == "" {
		return nil, nil
	}
	rel, err := d.releaser(clusterPath, lrs.p)
	if err != nil {
		return nil, fmt.Errorf("HelmRelease %s: connecting Helm to the cluster: %w", rb.Ref, err)
	}
	objs, namespace, err := rel.Current(rb.ReleaseName, rb.StorageNamespace)
	if err != nil {
		return nil, fmt.Errorf("HelmRelease %s: reading release %s: %w", rb.Ref, rb.ReleaseName, err)
	}
	mapper := d.cluster.Client.RESTMapper()
	var out []result.Object
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Kind == "" || o.GetName() == "" {
			continue
		}
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			continue // the kind is gone from the cluster, and its objects with it
		}
		ns := o.GetNamespace()
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			ns = ""
		} else if ns == "" {
			// As Helm builds them: the release's namespace.
			ns = namespace
		}
		id := result.ObjectID{Group: gvk.Group, Kind: gvk.Kind, Namespace: ns, Name: o.GetName()}
		if rendered[id] {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		if err := d.cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.GetName()}, u); err != nil {
			if apierrors.IsNotFound(err) || isNoMatch(err) {
				continue
			}
			return nil, fmt.Errorf("HelmRelease %s: reading %s: %w", rb.Ref, id, err)
		}
		if u.GetAnnotations()[helmResourcePolicy] == "keep" {
			continue
		}
		out = append(out, result.Object{Object: cleanLive(u), Origin: rb.Origin})
	}
	return out, nil
}

// helmResourcePolicy is the annotation with which Helm keeps an object an
// upgrade or uninstall would delete.
const helmResourcePolicy = "helm.sh/resource-policy"

// liveSecret reads a Secret from the cluster, once per LiveDiff.
func (d *Deployer) liveSecret(ctx context.Context, lrs *liveReleases, namespace, name string) (*unstructured.Unstructured, bool) {
	key := namespace + "/" + name
	u, seen := lrs.secrets[key]
	if !seen {
		u = &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Secret")
		if err := d.cluster.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
			u = nil
		}
		lrs.secrets[key] = u
	}
	return u, u != nil
}

// liveMembers returns the live objects of inventory entries not in keep
// that still carry the Kustomization's labels: what pruning would delete.
func (d *Deployer) liveMembers(ctx context.Context, ref result.KustomizationRef, entries []Entry, keep map[string]Entry) ([]result.Object, error) {
	var out []result.Object
	for _, e := range entries {
		if _, ok := keep[e.ID]; ok {
			continue
		}
		stub, err := e.Object()
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(stub.GroupVersionKind())
		if err := d.cluster.Client.Get(ctx, client.ObjectKeyFromObject(stub), u); err != nil {
			if apierrors.IsNotFound(err) || isNoMatch(err) {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", e.ObjectID(), err)
		}
		l := u.GetLabels()
		if l[labelOwnerName] != ref.Name || l[labelOwnerNS] != ref.Namespace {
			continue // no longer ours: pruning leaves it
		}
		if u.GetAnnotations()[annPrune] == "disabled" {
			continue
		}
		out = append(out, result.Object{Object: cleanLive(u)})
	}
	return out, nil
}

// Drift finds the objects changed in the cluster by hand: for every
// object of a build (the revision last applied) that is live, a
// server-side dry-run of that object is compared with the live object,
// with the same normalisation as LiveDiff. Where they differ, applying the
// build again would change the object, so the cluster no longer holds
// what the build applied. The result has the drifted objects only, as the
// build would apply them (Desired) and as they are (Live); objects not
// live, suspended Kustomizations and failed builds are left out. The
// objects HelmReleases rendered are compared the same way (releaseDrift).
// A dry-run the server refuses is a finding of Desired.
func (d *Deployer) Drift(ctx context.Context, cb *result.ClusterBuild) (*LiveState, error) {
	live := &result.ClusterBuild{Path: cb.Path, Sensitive: cb.Sensitive}
	applied := &result.ClusterBuild{Path: cb.Path, Sensitive: cb.Sensitive}
	secrets := redact.NewMasker(cb.Sensitive)
	for _, kb := range cb.Kustomizations {
		if kb.Err != nil || kb.Suspended {
			continue
		}
		lk := &result.KustomizationBuild{Ref: kb.Ref, Origin: kb.Origin, Spec: kb.Spec}
		ak := &result.KustomizationBuild{Ref: kb.Ref, Origin: kb.Origin, Spec: kb.Spec}
		live.Kustomizations = append(live.Kustomizations, lk)
		applied.Kustomizations = append(applied.Kustomizations, ak)
		scratch := &result.ClusterBuild{}
		if err := d.liveKustomization(ctx, cb.Path, &result.KustomizationBuild{Ref: kb.Ref, Origin: kb.Origin, Objects: kb.Objects}, lk, ak, scratch, secrets); err != nil {
			return nil, err
		}
		applied.Findings = append(applied.Findings, scratch.Findings...)
		// Objects the apply would create are not live: no drift. Those
		// it would change are in both; keep only those.
		inLive := map[result.ObjectID]bool{}
		for _, o := range lk.Objects {
			inLive[o.ID()] = true
		}
		kept := ak.Objects[:0]
		for _, o := range ak.Objects {
			if inLive[o.ID()] {
				kept = append(kept, o)
			}
		}
		ak.Objects = kept
		for _, rb := range kb.Releases {
			if lr, ar := d.releaseDrift(ctx, cb.Path, kb, rb, applied); lr != nil {
				lk.Releases = append(lk.Releases, lr)
				ak.Releases = append(ak.Releases, ar)
			}
		}
	}
	return &LiveState{Live: live, Desired: applied}, nil
}

// releaseDrift is Drift for a HelmRelease's rendered objects: a forced
// server-side dry-run of each (Helm owns their fields) compared with the
// live object; only those the dry-run would change are kept, on both
// sides. Objects not live and releases not rendered or suspended are left
// out, as for a Kustomization's objects.
func (d *Deployer) releaseDrift(ctx context.Context, clusterPath string, kb *result.KustomizationBuild, rb *result.ReleaseBuild, applied *result.ClusterBuild) (lr, ar *result.ReleaseBuild) {
	if rb.Err != nil || rb.Suspended {
		return nil, nil
	}
	shell := func() *result.ReleaseBuild {
		return &result.ReleaseBuild{Ref: rb.Ref, Origin: rb.Origin, ReleaseName: rb.ReleaseName, Namespace: rb.Namespace,
			StorageNamespace: rb.StorageNamespace, Chart: rb.Chart, ValuesDigest: rb.ValuesDigest, DependsOn: rb.DependsOn}
	}
	lr, ar = shell(), shell()
	opts := ssa.DefaultDiffOptions()
	opts.Force = true
	for _, o := range append(append([]result.Object(nil), rb.CRDs...), rb.Objects...) {
		cse, liveObj, merged, err := d.rm.Diff(ctx, o.Object.DeepCopy(), opts)
		switch {
		case err != nil && (apierrors.IsNotFound(err) || isNoMatch(err)):
			continue // not live: not drift
		case err != nil:
			id := o.ID()
			applied.Findings = append(applied.Findings, result.Finding{Severity: result.SeverityError, Check: "live", ClusterPath: clusterPath,
				Kustomization: &kb.Ref, Object: &id, Origin: o.Origin,
				Message: fmt.Sprintf("HelmRelease %s: server-side dry-run: %v", rb.Ref, explainApplyError(err))})
		case cse.Action == ssa.ConfiguredAction && liveObj != nil && merged != nil:
			lr.Objects = append(lr.Objects, result.Object{Object: cleanLive(liveObj), Origin: o.Origin})
			ar.Objects = append(ar.Objects, result.Object{Object: cleanLive(merged), Origin: o.Origin})
		}
	}
	return lr, ar
}
