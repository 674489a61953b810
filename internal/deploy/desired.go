package deploy

import (
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
)

// The pure stages of deploying one Kustomization: what the build asks the
// cluster to hold, what the inventory must record before and after the
// apply, what to health-check. They read no cluster, so they are unit
// tested without one (desired_internal_test.go).

// desired is one Kustomization's build seen by the deployer.
type desired struct {
	// objects are applied with server-side apply, labelled as members of
	// the Kustomization's ApplySet.
	objects []*unstructured.Unstructured
	// origins map inventory IDs to the file:line each object came from.
	origins map[string]result.Origin
	// releases are the HelmReleases, installed as Helm releases.
	releases map[string]Entry
	// next is the inventory once the apply succeeded: objects (with the
	// hash of what is applied) and releases.
	next map[string]Entry
}

// desiredObjects copies the objects to apply out of a build. Flux's own
// kinds are interpreted, not applied; an object left SOPS-encrypted stops
// the whole Kustomization, as applying the ciphertext would be wrong.
func desiredObjects(kb *result.KustomizationBuild) (*desired, error) {
	want := &desired{origins: map[string]result.Origin{}}
	for _, o := range kb.Objects {
		if interpreted(o.Object) {
			continue // HelmReleases are installed as Helm releases (helm.go)
		}
		if o.Encrypted {
			return nil, fmt.Errorf("%s is SOPS-encrypted and could not be decrypted; nothing of this Kustomization was applied", o.ID())
		}
		u := o.Object.DeepCopy()
		want.objects = append(want.objects, u)
		want.origins[EntryOf(u).ID] = o.Origin
	}
	return want, nil
}

// withEntries labels the objects as members of the ApplySet id and fills
// next from them and the releases.
func (want *desired) withEntries(id string, releases map[string]Entry) {
	want.releases = releases
	want.next = map[string]Entry{}
	for _, u := range want.objects {
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelApplySetPartOf] = id
		u.SetLabels(labels)
		e := EntryOf(u)
		e.Hash = manifestHash(u)
		want.next[e.ID] = e
	}
	for k, e := range releases {
		want.next[k] = e
	}
}

// checkNotEmptied refuses a build that would prune everything deployed
// before: far more often a broken path or selector than an intent.
func checkNotEmptied(want *desired, old *Inventory, allowEmpty bool) error {
	if len(want.objects) == 0 && len(want.releases) == 0 && len(old.Entries) > 0 && !allowEmpty {
		return fmt.Errorf("builds to zero objects but %d were deployed before; refusing to prune them all (use --allow-empty if that is intended)", len(old.Entries))
	}
	return nil
}

// recordFirst returns the inventory to write before anything is applied,
// or nil when the stored one already tracks every object the apply may
// create. It is old ∪ new, so a run killed mid-apply leaves everything it
// may have created tracked; old entries keep their hashes, new ones get
// none until their apply succeeded (a hash promises "this exact manifest
// was applied").
func recordFirst(want *desired, known map[string]Entry, stored bool) map[string]Entry {
	changed := !stored
	for _, u := range want.objects {
		if _, ok := known[EntryOf(u).ID]; !ok {
			changed = true
		}
	}
	for k, e := range want.releases {
		// A new HelmRelease, or one whose release target changed: record
		// it before installing anything, former releases included.
		if prev, ok := known[k]; !ok || prev != e {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	union := map[string]Entry{}
	for k, v := range want.next {
		union[k] = Entry{ID: v.ID, Version: v.Version, Release: v.Release, StorageNamespace: v.StorageNamespace, FormerReleases: v.FormerReleases}
	}
	for k, v := range known {
		if _, rel := want.releases[k]; rel {
			continue // the new entry keeps the old releases as former ones
		}
		union[k] = v
	}
	return union
}

// kustomizationTimeout is spec.timeout, else the deployer's default.
func kustomizationTimeout(ks *kustomizev1.Kustomization, def time.Duration) time.Duration {
	if ks != nil && ks.Spec.Timeout != nil && ks.Spec.Timeout.Duration > 0 {
		return ks.Spec.Timeout.Duration
	}
	return def
}

// healthTargets are the objects to wait for: every applied object with
// spec.wait (or --wait), else spec.healthChecks. As Flux, objects the ssa
// annotations left alone (skipped) are not health-checked; an ignored one
// may not even exist.
func healthTargets(ks *kustomizev1.Kustomization, wait bool, objects []*unstructured.Unstructured, changes []result.Change) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	switch {
	case wait || ks.Spec.Wait:
		skipped := map[string]bool{}
		for _, c := range changes {
			if c.Action == result.ActionSkipped {
				skipped[c.ID.InventoryKey()] = true
			}
		}
		for _, u := range objects {
			if !skipped[EntryOf(u).ID] {
				out = append(out, u)
			}
		}
	case len(ks.Spec.HealthChecks) > 0:
		for _, hc := range ks.Spec.HealthChecks {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion(hc.APIVersion)
			u.SetKind(hc.Kind)
			u.SetNamespace(hc.Namespace)
			u.SetName(hc.Name)
			out = append(out, u)
		}
	}
	return out
}

// blockedBy names a dependency that finished without being applied, or ""
// when none did. Dependencies not finished yet do not block: the graph
// levels ensure they ran before, unless they are outside this cluster path.
func blockedBy(deps []result.KustomizationRef, done map[result.KustomizationRef]*result.KustomizationDeploy) string {
	blocked := ""
	for _, dep := range deps {
		if r, ok := done[dep]; ok && r.Status != result.StatusApplied {
			blocked = dep.String()
		}
	}
	return blocked
}
