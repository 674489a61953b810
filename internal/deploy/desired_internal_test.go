package deploy

import (
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fluxcd/pkg/apis/meta"

	"github.com/slipwayhq/slipway/internal/result"
)

// The deployer's pure stages, without a cluster: what is applied, what the
// inventory records before and after, what blocks, who holds the lock.

func obj(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func cm(t *testing.T, name, value string) *unstructured.Unstructured {
	return obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+name+", namespace: app}\ndata: {k: "+value+"}\n")
}

func TestDesiredObjectsSkipsFluxKindsAndRefusesCiphertext(t *testing.T) {
	hr := obj(t, "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: app}\n")
	rs := obj(t, "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata: {name: apps, namespace: app}\n")
	a := cm(t, "a", "1")
	kb := &result.KustomizationBuild{Objects: []result.Object{
		{Object: a, Origin: result.Origin{File: "apps/a.yaml", Line: 3}},
		{Object: hr},
		{Object: rs},
	}}
	want, err := desiredObjects(kb)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.objects) != 1 || want.objects[0].GetName() != "a" {
		t.Fatalf("objects = %v, want only the ConfigMap (the HelmRelease is installed, the ResourceSet rendered)", want.objects)
	}
	if want.objects[0] == a {
		t.Error("the build's object is applied as is; labelling it would change the build result")
	}
	if o := want.origins[EntryOf(a).ID]; o.File != "apps/a.yaml" || o.Line != 3 {
		t.Errorf("origin = %+v", o)
	}

	kb.Objects = append(kb.Objects, result.Object{Object: cm(t, "sealed", "'ENC[AES256_GCM]'"), Encrypted: true})
	if _, err := desiredObjects(kb); err == nil || !strings.Contains(err.Error(), "SOPS-encrypted") || !strings.Contains(err.Error(), "sealed") {
		t.Fatalf("encrypted object: err = %v", err)
	}
}

func TestWithEntriesLabelsAndHashes(t *testing.T) {
	want := &desired{objects: []*unstructured.Unstructured{cm(t, "a", "1")}}
	rel := map[string]Entry{"app_web_helm.toolkit.fluxcd.io_HelmRelease": {ID: "app_web_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2", Release: "web"}}
	want.withEntries("applyset-x", rel)
	if got := want.objects[0].GetLabels()[LabelApplySetPartOf]; got != "applyset-x" {
		t.Errorf("part-of label = %q", got)
	}
	e := want.next["app_a__ConfigMap"]
	if e.Hash == "" || e.Hash != manifestHash(want.objects[0]) {
		t.Errorf("entry hash %q does not identify the labelled manifest", e.Hash)
	}
	if len(want.next) != 2 || want.next["app_web_helm.toolkit.fluxcd.io_HelmRelease"].Release != "web" {
		t.Errorf("next = %v", want.next)
	}
	// A different value is a different manifest.
	other := &desired{objects: []*unstructured.Unstructured{cm(t, "a", "2")}}
	other.withEntries("applyset-x", nil)
	if other.next["app_a__ConfigMap"].Hash == e.Hash {
		t.Error("two different manifests share a hash")
	}
}

func TestCheckNotEmptied(t *testing.T) {
	old := &Inventory{Entries: []Entry{{ID: "app_a__ConfigMap", Version: "v1"}}}
	empty := &desired{}
	if err := checkNotEmptied(empty, old, false); err == nil || !strings.Contains(err.Error(), "--allow-empty") {
		t.Errorf("emptied: err = %v", err)
	}
	if err := checkNotEmptied(empty, old, true); err != nil {
		t.Errorf("allowed: %v", err)
	}
	if err := checkNotEmptied(empty, &Inventory{}, false); err != nil {
		t.Errorf("nothing deployed before: %v", err)
	}
	onlyRelease := &desired{releases: map[string]Entry{"x": {ID: "x"}}}
	if err := checkNotEmptied(onlyRelease, old, false); err != nil {
		t.Errorf("a HelmRelease is not nothing: %v", err)
	}
}

func TestRecordFirst(t *testing.T) {
	want := &desired{objects: []*unstructured.Unstructured{cm(t, "a", "1"), cm(t, "b", "1")}}
	want.withEntries("id", nil)
	a, b := want.next["app_a__ConfigMap"], want.next["app_b__ConfigMap"]
	gone := Entry{ID: "app_gone__ConfigMap", Version: "v1", Hash: "old"}

	// Every object already tracked in a stored inventory: no write.
	known := map[string]Entry{a.ID: a, b.ID: b}
	if got := recordFirst(want, known, true); got != nil {
		t.Errorf("nothing new: recordFirst = %v, want nil", got)
	}
	// Not stored yet: written even though nothing is new.
	if got := recordFirst(want, known, false); got == nil {
		t.Error("no inventory stored yet, but nothing recorded before the apply")
	}

	// A newcomer: old ∪ new; the newcomer has no hash yet, old entries keep theirs.
	known = map[string]Entry{a.ID: {ID: a.ID, Version: "v1", Hash: "applied-before"}, gone.ID: gone}
	got := recordFirst(want, known, true)
	if len(got) != 3 {
		t.Fatalf("union = %v, want a, b and the entry leaving", got)
	}
	if got[b.ID].Hash != "" {
		t.Error("a newcomer got a hash before its apply succeeded")
	}
	if got[gone.ID] != gone {
		t.Errorf("the leaving entry changed: %+v", got[gone.ID])
	}
	if got[a.ID].Hash != "applied-before" {
		// The hash of what was applied before stays until the apply
		// succeeded: it promises "this exact manifest was applied".
		t.Errorf("a tracked entry lost its hash before the apply: %+v", got[a.ID])
	}
}

func TestRecordFirstReleaseTargetChange(t *testing.T) {
	id := "app_web_helm.toolkit.fluxcd.io_HelmRelease"
	before := Entry{ID: id, Version: "v2", Release: "web", StorageNamespace: "app"}
	want := &desired{}
	want.withEntries("id", map[string]Entry{id: before})
	if got := recordFirst(want, map[string]Entry{id: before}, true); got != nil {
		t.Errorf("same release: %v", got)
	}
	renamed := Entry{ID: id, Version: "v2", Release: "web2", StorageNamespace: "app", FormerReleases: "app/web"}
	want.withEntries("id", map[string]Entry{id: renamed})
	got := recordFirst(want, map[string]Entry{id: before}, true)
	if got == nil || got[id].Release != "web2" || got[id].FormerReleases != "app/web" {
		t.Errorf("renamed release not recorded before install, former release kept: %v", got)
	}
}

func TestKustomizationTimeout(t *testing.T) {
	def := 5 * time.Minute
	if got := kustomizationTimeout(nil, def); got != def {
		t.Errorf("nil spec: %v", got)
	}
	ks := &kustomizev1.Kustomization{}
	if got := kustomizationTimeout(ks, def); got != def {
		t.Errorf("no timeout: %v", got)
	}
	ks.Spec.Timeout = &metav1.Duration{Duration: 30 * time.Second}
	if got := kustomizationTimeout(ks, def); got != 30*time.Second {
		t.Errorf("spec.timeout: %v", got)
	}
}

func TestHealthTargets(t *testing.T) {
	a, b := cm(t, "a", "1"), cm(t, "b", "1")
	objects := []*unstructured.Unstructured{a, b}
	changes := []result.Change{{ID: result.IDOf(b), Action: result.ActionSkipped}}
	ks := &kustomizev1.Kustomization{}
	if got := healthTargets(ks, false, objects, changes); len(got) != 0 {
		t.Errorf("no wait, no health checks: %d targets", len(got))
	}
	got := healthTargets(ks, true, objects, changes)
	if len(got) != 1 || got[0].GetName() != "a" {
		t.Errorf("--wait: targets = %v, want a only (b was skipped by an ssa annotation)", got)
	}
	ks.Spec.Wait = true
	if got := healthTargets(ks, false, objects, nil); len(got) != 2 {
		t.Errorf("spec.wait: %d targets", len(got))
	}
	ks.Spec.Wait = false
	ks.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "app"}}
	got = healthTargets(ks, false, objects, nil)
	if len(got) != 1 || got[0].GetKind() != "Deployment" || got[0].GetName() != "web" || got[0].GetNamespace() != "app" {
		t.Errorf("healthChecks: %v", got)
	}
}

func TestBlockedBy(t *testing.T) {
	infra := result.KustomizationRef{Namespace: "flux-system", Name: "infra"}
	crds := result.KustomizationRef{Namespace: "flux-system", Name: "crds"}
	done := map[result.KustomizationRef]*result.KustomizationDeploy{
		crds: {Status: result.StatusApplied},
	}
	if got := blockedBy([]result.KustomizationRef{crds, infra}, done); got != "" {
		t.Errorf("applied and not yet run: blocked by %q", got)
	}
	for _, st := range []result.Status{result.StatusFailed, result.StatusBlocked, result.StatusSuspended} {
		done[infra] = &result.KustomizationDeploy{Status: st}
		if got := blockedBy([]result.KustomizationRef{crds, infra}, done); got != "flux-system/infra" {
			t.Errorf("dependency %s: blocked by %q", st, got)
		}
	}
}

func TestHeldByOther(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	lease := func(holder string, renewedAgo time.Duration, ttl int32) *coordinationv1.Lease {
		l := &coordinationv1.Lease{}
		if holder != "" {
			l.Spec.HolderIdentity = &holder
		}
		renew := metav1.NewMicroTime(now.Add(-renewedAgo))
		acquired := metav1.NewMicroTime(now.Add(-renewedAgo - time.Minute))
		l.Spec.RenewTime, l.Spec.AcquireTime, l.Spec.LeaseDurationSeconds = &renew, &acquired, &ttl
		return l
	}
	for _, tc := range []struct {
		name  string
		lease *coordinationv1.Lease
		held  bool
	}{
		{"free", lease("", 0, 60), false},
		{"ours", lease("run-1", 0, 60), false},
		{"another run's, fresh", lease("run-2", 10*time.Second, 60), true},
		{"another run's, expired", lease("run-2", 61*time.Second, 60), false},
		{"another run's, expiring now", lease("run-2", 60*time.Second, 60), false},
		{"no renew time", &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("run-2")}}, false},
	} {
		other, since, held := heldByOther(tc.lease, "run-1", now)
		if held != tc.held {
			t.Errorf("%s: held = %v", tc.name, held)
		}
		if held && (other != "run-2" || !since.Equal(now.Add(-10*time.Second-time.Minute))) {
			t.Errorf("%s: holder %q since %v, want run-2 since its acquire time", tc.name, other, since)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestFastPathUnchanged(t *testing.T) {
	desiredObj := cm(t, "a", "1")
	desiredObj.SetLabels(map[string]string{LabelApplySetPartOf: "id"})
	hash := manifestHash(desiredObj)
	id := EntryOf(desiredObj).ID
	live := desiredObj.DeepCopy()
	live.SetResourceVersion("42") // the server's own fields do not matter
	lc := newLiveCache()
	lc.objects[id] = live
	last := Entry{ID: id, Hash: hash}

	if !lc.unchanged(desiredObj, hash, last) {
		t.Error("live holds exactly what was applied with the same hash: not unchanged")
	}
	if lc.unchanged(desiredObj, hash, Entry{ID: id, Hash: "other"}) {
		t.Error("a different manifest was applied last time (a field may have been removed): unchanged")
	}
	drifted := live.DeepCopy()
	_ = unstructured.SetNestedField(drifted.Object, "edited", "data", "k")
	lc.objects[id] = drifted
	if lc.unchanged(desiredObj, hash, last) {
		t.Error("a hand edit in the cluster: unchanged")
	}
	delete(lc.objects, id)
	if lc.unchanged(desiredObj, hash, last) {
		t.Error("no live object known: unchanged")
	}
	var none *liveCache
	if none.unchanged(desiredObj, hash, last) {
		t.Error("no cache: unchanged")
	}
	withStringData := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: app}\nstringData: {k: v}\n")
	lc.objects[EntryOf(withStringData).ID] = withStringData
	h := manifestHash(withStringData)
	if lc.unchanged(withStringData, h, Entry{Hash: h}) {
		t.Error("stringData is write-only; the live object never shows it: unchanged")
	}
}

func TestContains(t *testing.T) {
	for _, tc := range []struct {
		live, want string
		ok         bool
	}{
		{"{a: 1, b: 2}", "{a: 1}", true},
		{"{a: 1}", "{a: 1, b: 2}", false},
		{"{a: [1, 2]}", "{a: [1, 2]}", true},
		{"{a: [1, 2, 3]}", "{a: [1, 2]}", false},
		{"{a: 1.0}", "{a: 1}", true},
		{"{a: '1'}", "{a: 1}", false},
		{"{a: {b: {c: x, d: y}}}", "{a: {b: {c: x}}}", true},
		{"{a: null}", "{a: {}}", false},
	} {
		var live, want map[string]any
		if err := yaml.Unmarshal([]byte(tc.live), &live); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		if got := contains(live, want); got != tc.ok {
			t.Errorf("contains(%s, %s) = %v, want %v", tc.live, tc.want, got, tc.ok)
		}
	}
}

func TestInventoryNames(t *testing.T) {
	ref := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	clash := result.KustomizationRef{Namespace: "flux", Name: "system-apps"}
	// The names collide (kept for compatibility with deployed
	// inventories); a build holding both is refused before anything.
	if err := sharedInventories([]result.KustomizationRef{ref, clash}); err == nil || !strings.Contains(err.Error(), "flux/system-apps") {
		t.Errorf("colliding inventory names: err = %v", err)
	}
	if err := sharedInventories([]result.KustomizationRef{ref, {Namespace: "flux-system", Name: "infra"}, ref}); err != nil {
		t.Errorf("distinct names: %v", err)
	}
	// Stable: the same Kustomization always gets the same ID.
	if first, again := ApplySetID(ref), ApplySetID(ref); first != again || !strings.HasPrefix(first, "applyset-") {
		t.Errorf("ApplySetID = %q, then %q", first, again)
	}
	e := EntryOf(cm(t, "a", "1"))
	if e.ID != "app_a__ConfigMap" || e.Version != "v1" {
		t.Errorf("entry = %+v", e)
	}
	u, err := e.Object()
	if err != nil || u.GetName() != "a" || u.GetNamespace() != "app" || u.GetKind() != "ConfigMap" || u.GetAPIVersion() != "v1" {
		t.Errorf("Object() = %v, %v", u, err)
	}
	if _, err := (Entry{ID: "garbage"}).Object(); err == nil {
		t.Error("a malformed entry addresses an object")
	}
	if !sameEntries(map[string]Entry{"x": {ID: "x", Hash: "1"}}, map[string]Entry{"x": {ID: "x", Hash: "1"}}) ||
		sameEntries(map[string]Entry{"x": {ID: "x", Hash: "1"}}, map[string]Entry{"x": {ID: "x", Hash: "2"}}) {
		t.Error("sameEntries compares hashes wrongly")
	}
}
