package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/testutil"
)

func (e *env) webAppIDs() []string {
	return []string{
		"Namespace/" + e.ID,
		"ConfigMap/" + e.ID + "/settings",
		"Deployment/" + e.ID + "/web",
		"Service/" + e.ID + "/web",
		"ClusterRole/" + e.ID + "-reader",
	}
}

func TestFirstDeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "first")
	e.WebApp("blue")
	o := e.Options()
	o.Wait = true
	cd := e.Deploy(o)
	e.MustSucceed(cd)

	want := map[string]result.Action{}
	for _, id := range e.webAppIDs() {
		want[id] = result.ActionCreated
	}
	e.wantActions(e.kd(cd, "app"), want)
	// The root only holds Flux objects, which slipway interprets.
	e.wantActions(e.kd(cd, ""), nil)

	// The ApplySet parent.
	ref := e.Ref("app")
	id := deploy.ApplySetID(ref)
	if want := applySetID(deploy.ParentName(ref)); id != want {
		t.Errorf("ApplySetID(%s) = %s, want %s (KEP-3659)", ref, id, want)
	}
	cm, _ := e.Inventory("app")
	if cm == nil {
		t.Fatalf("no inventory ConfigMap %s/%s", deploy.SystemNamespace, deploy.ParentName(ref))
	}
	e.wantInventory("app", e.webAppIDs()...)
	if got := cm.Labels[deploy.LabelApplySetID]; got != id {
		t.Errorf("parent label %s = %q, want %q", deploy.LabelApplySetID, got, id)
	}
	if got := cm.Annotations[deploy.AnnotationTooling]; got != "slipway/test" {
		t.Errorf("parent annotation %s = %q, want slipway/test", deploy.AnnotationTooling, got)
	}
	if got, want := cm.Annotations[deploy.AnnotationGroupKinds], "ClusterRole.rbac.authorization.k8s.io,ConfigMap,Deployment.apps,Namespace,Service"; got != want {
		t.Errorf("parent annotation %s = %q, want %q", deploy.AnnotationGroupKinds, got, want)
	}
	if got := cm.Annotations[deploy.AnnotationAdditionalNSes]; got != e.ID {
		t.Errorf("parent annotation %s = %q, want %q", deploy.AnnotationAdditionalNSes, got, e.ID)
	}

	// The members.
	for _, o := range e.WebAppObjects() {
		u := mustGet(t, o[0], o[1], o[2])
		l := u.GetLabels()
		what := o[0] + " " + o[1] + "/" + o[2]
		if l[deploy.LabelApplySetPartOf] != id {
			t.Errorf("%s: label %s = %q, want %q", what, deploy.LabelApplySetPartOf, l[deploy.LabelApplySetPartOf], id)
		}
		if l["kustomize.toolkit.fluxcd.io/name"] != ref.Name || l["kustomize.toolkit.fluxcd.io/namespace"] != ref.Namespace {
			t.Errorf("%s: Flux owner labels %v, want name %s namespace %s", what, l, ref.Name, ref.Namespace)
		}
		var managers []string
		applied := false
		for _, mf := range u.GetManagedFields() {
			managers = append(managers, mf.Manager+"/"+string(mf.Operation))
			if mf.Manager == deploy.FieldManager && mf.Operation == "Apply" {
				applied = true
			}
		}
		if !applied {
			t.Errorf("%s: no server-side apply by field manager %q in managedFields %v", what, deploy.FieldManager, managers)
		}
	}
	if got := mustGet(t, "v1 ConfigMap", e.ID, "settings"); cmData(t, got, "color") != "blue" {
		t.Errorf("ConfigMap data %v", got.Object["data"])
	}
	if len(e.Events.Matching("ready")) == 0 {
		t.Errorf("no readiness event with --wait")
	}
	if !strings.Contains(deploytest.DeployText(cd), "created") {
		t.Errorf("report does not say what was created")
	}
}

func TestNoOpRedeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "noop")
	e.WebApp("blue")
	e.MustSucceed(e.Deploy(e.Options()))
	before := resourceVersions(t, e.WebAppObjects())
	depBefore := mustGet(t, "apps/v1 Deployment", e.ID, "web")
	parent, _ := e.Inventory("app")
	root, _ := e.Inventory("")

	o := e.Options()
	o.Wait = true
	cd := e.Deploy(o)
	e.MustSucceed(cd)
	for _, kd := range cd.Kustomizations {
		for _, c := range kd.Changes {
			if c.Action != result.ActionUnchanged {
				t.Errorf("%s: %s %s, want unchanged", kd.Ref, c.ID, c.Action)
			}
		}
	}
	if n := len(e.kd(cd, "app").Changes); n != len(e.WebAppObjects()) {
		t.Errorf("%d changes reported, want one per object (%d)", n, len(e.WebAppObjects()))
	}
	after := resourceVersions(t, e.WebAppObjects())
	for k, v := range before {
		// The Deployment's status may move on (the controller), which
		// bumps its resourceVersion; compare its generation instead.
		if strings.Contains(k, "Deployment") {
			continue
		}
		if after[k] != v {
			t.Errorf("%s: resourceVersion %s -> %s: it was patched", k, v, after[k])
		}
	}
	// Nothing of the Deployment's spec or metadata changed.
	dep := mustGet(t, "apps/v1 Deployment", e.ID, "web")
	if dep.GetGeneration() != depBefore.GetGeneration() {
		t.Errorf("Deployment generation %d -> %d: its spec was changed", depBefore.GetGeneration(), dep.GetGeneration())
	}
	if a, b := slipwayFields(depBefore), slipwayFields(dep); a != b {
		t.Errorf("Deployment: slipway's managedFields entry changed:\n%s\n%s", a, b)
	}
	// Inventories were not rewritten.
	parent2, _ := e.Inventory("app")
	root2, _ := e.Inventory("")
	if parent2.ResourceVersion != parent.ResourceVersion {
		t.Errorf("inventory of %s rewritten: resourceVersion %s -> %s", e.Ref("app"), parent.ResourceVersion, parent2.ResourceVersion)
	}
	if root2.ResourceVersion != root.ResourceVersion {
		t.Errorf("inventory of %s rewritten: resourceVersion %s -> %s", e.Ref(""), root.ResourceVersion, root2.ResourceVersion)
	}
}

func TestChangeAndPrune(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "prune")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "b.yaml", "c.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "1"}),
		app + "/b.yaml":             deploytest.ConfigMapYAML(ns, "b", map[string]string{"k": "1"}),
		app + "/c.yaml":             deploytest.ConfigMapYAML(ns, "c", map[string]string{"k": "1"}),
	})
	e.MustSucceed(e.Deploy(e.Options()))
	c := mustGet(t, "v1 ConfigMap", ns, "c")

	// An object that is not part of the repository, in the same namespace.
	other := `apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: ` + ns + `}
data: {k: "1"}
`
	if err := local.Apply(t.Context(), other); err != nil {
		t.Fatal(err)
	}

	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "c.yaml"),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "2"}),
		app + "/b.yaml":             "",
	})
	cd := e.Deploy(e.Options())
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:        result.ActionUnchanged,
		"ConfigMap/" + ns + "/a": result.ActionConfigured,
		"ConfigMap/" + ns + "/b": result.ActionDeleted,
		"ConfigMap/" + ns + "/c": result.ActionUnchanged,
	})
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "a"), "k"); got != "2" {
		t.Errorf("ConfigMap a: k = %q, want 2", got)
	}
	if !gone(t, "v1 ConfigMap", ns, "b") {
		t.Errorf("ConfigMap b still exists after it was removed from the repository")
	}
	if got := mustGet(t, "v1 ConfigMap", ns, "c"); got.GetResourceVersion() != c.GetResourceVersion() {
		t.Errorf("ConfigMap c was patched")
	}
	mustGet(t, "v1 ConfigMap", ns, "other")
	e.wantInventory("app", "Namespace/"+ns, "ConfigMap/"+ns+"/a", "ConfigMap/"+ns+"/c")
	if cm, _ := e.Inventory("app"); cm.Annotations[deploy.AnnotationGroupKinds] != "ConfigMap,Namespace" {
		t.Errorf("contains-group-kinds %q", cm.Annotations[deploy.AnnotationGroupKinds])
	}
}

func TestPruneDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep")
	ns := e.ID
	a, b := "apps/"+e.ID+"/annotated", "apps/"+e.ID+"/noprune"
	e.Write(map[string]string{
		e.Path + "/ns.yaml":                       e.Kustomization("ns", "apps/"+e.ID+"/ns"),
		"apps/" + e.ID + "/ns/kustomization.yaml": deploytest.Kustomize("ns.yaml"),
		"apps/" + e.ID + "/ns/ns.yaml":            deploytest.NamespaceYAML(ns),
		e.Path + "/annotated.yaml":                e.Kustomization("annotated", a, "dependsOn: [{name: "+e.Name("ns")+"}]"),
		a + "/kustomization.yaml":                 deploytest.Kustomize("keep.yaml", "plain.yaml", "stay.yaml"),
		a + "/keep.yaml":                          deploytest.ConfigMapYAML(ns, "keep", nil, "kustomize.toolkit.fluxcd.io/prune: disabled"),
		a + "/plain.yaml":                         deploytest.ConfigMapYAML(ns, "plain", nil),
		a + "/stay.yaml":                          deploytest.ConfigMapYAML(ns, "stay", nil),
		e.Path + "/noprune.yaml":                  e.Kustomization("noprune", b, "prune: false", "dependsOn: [{name: "+e.Name("ns")+"}]"),
		b + "/kustomization.yaml":                 deploytest.Kustomize("x.yaml", "y.yaml"),
		b + "/x.yaml":                             deploytest.ConfigMapYAML(ns, "x", nil),
		b + "/y.yaml":                             deploytest.ConfigMapYAML(ns, "y", nil),
	})
	e.MustSucceed(e.Deploy(e.Options()))

	e.Write(map[string]string{
		a + "/kustomization.yaml": deploytest.Kustomize("stay.yaml"),
		b + "/kustomization.yaml": deploytest.Kustomize("x.yaml"),
	})
	cd := e.Deploy(e.Options())
	e.MustSucceed(cd)
	got := actions(e.kd(cd, "annotated"))
	if got["ConfigMap/"+ns+"/keep"] == result.ActionDeleted {
		t.Errorf("ConfigMap keep reported deleted despite prune: disabled")
	}
	if got["ConfigMap/"+ns+"/plain"] != result.ActionDeleted {
		t.Errorf("ConfigMap plain: %q, want deleted", got["ConfigMap/"+ns+"/plain"])
	}
	if gone(t, "v1 ConfigMap", ns, "keep") {
		t.Errorf("ConfigMap keep (kustomize.toolkit.fluxcd.io/prune: disabled) was deleted")
	}
	if !gone(t, "v1 ConfigMap", ns, "plain") {
		t.Errorf("ConfigMap plain was not pruned")
	}
	for id, a := range actions(e.kd(cd, "noprune")) {
		if a == result.ActionDeleted {
			t.Errorf("noprune: %s deleted although spec.prune is false", id)
		}
	}
	if gone(t, "v1 ConfigMap", ns, "y") {
		t.Errorf("ConfigMap y was deleted although its Kustomization has spec.prune: false")
	}
	mustGet(t, "v1 ConfigMap", ns, "x")
	mustGet(t, "v1 ConfigMap", ns, "stay")
	// Flux forgets what it did not prune: the inventories list what the
	// repository holds now.
	e.wantInventory("annotated", "ConfigMap/"+ns+"/stay")
	e.wantInventory("noprune", "ConfigMap/"+ns+"/x")
}

// slipwayFields renders slipway's managedFields entry of an object: its time
// moves whenever slipway changes a field it owns.
func slipwayFields(u *unstructured.Unstructured) string {
	for _, mf := range u.GetManagedFields() {
		if mf.Manager == deploy.FieldManager {
			raw := ""
			if mf.FieldsV1 != nil {
				raw = mf.FieldsV1.GetRawString()
			}
			return fmt.Sprintf("%s %s %s", mf.Operation, mf.Time, raw)
		}
	}
	return ""
}

func TestSSAIgnoreAndIfNotPresent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "ssa")
	ns := e.ID
	app := "apps/" + e.ID
	// "pre" exists before slipway ever runs, with a value of its own.
	if err := local.Apply(t.Context(), deploytest.NamespaceYAML(ns)+"---\n"+deploytest.ConfigMapYAML(ns, "pre", map[string]string{"v": "live"})); err != nil {
		t.Fatal(err)
	}
	pre := mustGet(t, "v1 ConfigMap", ns, "pre")
	ignore := "kustomize.toolkit.fluxcd.io/ssa: Ignore"
	ifNotPresent := "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent"
	e.Write(map[string]string{
		// wait: Flux checks the health of what it applied, not of what
		// the ssa annotations told it to leave alone.
		e.Path + "/app.yaml":        e.Kustomization("app", app, "wait: true", "timeout: 10s"),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "ignored.yaml", "pre.yaml", "once.yaml", "plain.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/ignored.yaml":       deploytest.ConfigMapYAML(ns, "ignored", map[string]string{"v": "repo"}, ignore),
		app + "/pre.yaml":           deploytest.ConfigMapYAML(ns, "pre", map[string]string{"v": "repo"}, ignore),
		app + "/once.yaml":          deploytest.ConfigMapYAML(ns, "once", map[string]string{"v": "1"}, ifNotPresent),
		app + "/plain.yaml":         deploytest.ConfigMapYAML(ns, "plain", map[string]string{"v": "1"}),
	})
	cd := e.Deploy(e.Options())
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:              result.ActionConfigured, // taken over from kubectl
		"ConfigMap/" + ns + "/ignored": result.ActionSkipped,
		"ConfigMap/" + ns + "/pre":     result.ActionSkipped,
		"ConfigMap/" + ns + "/once":    result.ActionCreated,
		"ConfigMap/" + ns + "/plain":   result.ActionCreated,
	})
	if get(t, "v1 ConfigMap", ns, "ignored") != nil {
		t.Errorf("ConfigMap ignored (ssa: Ignore) was created")
	}
	if got := mustGet(t, "v1 ConfigMap", ns, "pre"); got.GetResourceVersion() != pre.GetResourceVersion() || cmData(t, got, "v") != "live" {
		t.Errorf("ConfigMap pre (ssa: Ignore) was changed: v=%q", cmData(t, got, "v"))
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "once"), "v"); got != "1" {
		t.Errorf("ConfigMap once: v=%q, want 1", got)
	}

	// Change the repository and edit the IfNotPresent object live.
	if _, err := local.Kubectl(t.Context(), "-n", ns, "patch", "configmap", "once", "--type=merge", "-p", `{"data":{"extra":"kept"}}`); err != nil {
		t.Fatal(err)
	}
	e.Write(map[string]string{
		app + "/ignored.yaml": deploytest.ConfigMapYAML(ns, "ignored", map[string]string{"v": "repo2"}, ignore),
		app + "/pre.yaml":     deploytest.ConfigMapYAML(ns, "pre", map[string]string{"v": "repo2"}, ignore),
		app + "/once.yaml":    deploytest.ConfigMapYAML(ns, "once", map[string]string{"v": "2"}, ifNotPresent),
		app + "/plain.yaml":   deploytest.ConfigMapYAML(ns, "plain", map[string]string{"v": "2"}),
	})
	cd = e.Deploy(e.Options())
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:              result.ActionUnchanged,
		"ConfigMap/" + ns + "/ignored": result.ActionSkipped,
		"ConfigMap/" + ns + "/pre":     result.ActionSkipped,
		"ConfigMap/" + ns + "/once":    result.ActionSkipped,
		"ConfigMap/" + ns + "/plain":   result.ActionConfigured,
	})
	once := mustGet(t, "v1 ConfigMap", ns, "once")
	if cmData(t, once, "v") != "1" || cmData(t, once, "extra") != "kept" {
		t.Errorf("ConfigMap once (ssa: IfNotPresent) changed after creation: %v", once.Object["data"])
	}
	if get(t, "v1 ConfigMap", ns, "ignored") != nil {
		t.Errorf("ConfigMap ignored (ssa: Ignore) was created")
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "pre"), "v"); got != "live" {
		t.Errorf("ConfigMap pre (ssa: Ignore): v=%q, want live", got)
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "plain"), "v"); got != "2" {
		t.Errorf("ConfigMap plain: v=%q, want 2", got)
	}
}

func TestImmutableFieldNeedsForce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "immutable")
	ns := e.ID
	app := "apps/" + e.ID
	write := func(selector string, extra ...string) {
		e.Write(map[string]string{
			e.Path + "/app.yaml":        e.Kustomization("app", app, extra...),
			app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "deployment.yaml"),
			app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
			app + "/deployment.yaml":    deploytest.DeploymentYAML(ns, "web", selector),
		})
	}
	write("web-v1")
	e.MustSucceed(e.Deploy(e.Options()))
	uid := mustGet(t, "apps/v1 Deployment", ns, "web").GetUID()

	// spec.selector is immutable.
	write("web-v2")
	cd := e.Deploy(e.Options())
	kd := e.kd(cd, "app")
	if kd.Status != result.StatusFailed {
		t.Fatalf("changing an immutable field without force: %s, want failed", kd.Status)
	}
	if !strings.Contains(kd.Error, "immutable") || !strings.Contains(kd.Error, "force") || !strings.Contains(kd.Error, "Deployment") {
		t.Errorf("error does not explain the immutable field and force: %s", kd.Error)
	}
	if !cd.Failed() {
		t.Errorf("ClusterDeploy.Failed() is false")
	}
	dep := mustGet(t, "apps/v1 Deployment", ns, "web")
	if dep.GetUID() != uid {
		t.Errorf("the Deployment was recreated without force")
	}

	// spec.force: true recreates it.
	write("web-v2", "force: true")
	cd = e.Deploy(e.Options())
	e.MustSucceed(cd)
	dep = mustGet(t, "apps/v1 Deployment", ns, "web")
	if dep.GetUID() == uid {
		t.Errorf("spec.force: the Deployment was not recreated")
	}
	if sel, _, _ := unstructured.NestedString(dep.Object, "spec", "selector", "matchLabels", "app"); sel != "web-v2" {
		t.Errorf("selector %q, want web-v2", sel)
	}
	uid = dep.GetUID()

	// The annotation recreates it, without spec.force.
	e.Write(map[string]string{
		e.Path + "/app.yaml": e.Kustomization("app", app),
		app + "/deployment.yaml": strings.Replace(deploytest.DeploymentYAML(ns, "web", "web-v3"), "  namespace: "+ns+"\n",
			"  namespace: "+ns+"\n  annotations:\n    kustomize.toolkit.fluxcd.io/force: enabled\n", 1),
	})
	cd = e.Deploy(e.Options())
	e.MustSucceed(cd)
	dep = mustGet(t, "apps/v1 Deployment", ns, "web")
	if dep.GetUID() == uid {
		t.Errorf("force annotation: the Deployment was not recreated")
	}
	if sel, _, _ := unstructured.NestedString(dep.Object, "spec", "selector", "matchLabels", "app"); sel != "web-v3" {
		t.Errorf("selector %q, want web-v3", sel)
	}
	e.wantInventory("app", "Namespace/"+ns, "Deployment/"+ns+"/web")
}

func TestEmptyBuildRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "empty")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/ns.yaml":             e.Kustomization("ns", app+"/ns"),
		app + "/ns/kustomization.yaml":  deploytest.Kustomize("ns.yaml"),
		app + "/ns/ns.yaml":             deploytest.NamespaceYAML(ns),
		e.Path + "/app.yaml":            e.Kustomization("app", app+"/app", "dependsOn: [{name: "+e.Name("ns")+"}]"),
		app + "/app/kustomization.yaml": deploytest.Kustomize("a.yaml", "b.yaml"),
		app + "/app/a.yaml":             deploytest.ConfigMapYAML(ns, "a", nil),
		app + "/app/b.yaml":             deploytest.ConfigMapYAML(ns, "b", nil),
	})
	e.MustSucceed(e.Deploy(e.Options()))

	e.Write(map[string]string{app + "/app/kustomization.yaml": deploytest.Kustomize()})
	cd := e.Deploy(e.Options())
	kd := e.kd(cd, "app")
	if kd.Status != result.StatusFailed || kd.Reason != result.ReasonEmptyBuild {
		t.Fatalf("empty build: %s (%s), want failed (EmptyBuild)", kd.Status, kd.Reason)
	}
	if !strings.Contains(kd.Error, "zero objects") || !strings.Contains(kd.Error, "allow-empty") {
		t.Errorf("error does not explain the refusal: %s", kd.Error)
	}
	for _, c := range kd.Changes {
		if c.Action == result.ActionDeleted {
			t.Errorf("%s deleted although the empty build was refused", c.ID)
		}
	}
	for _, n := range []string{"a", "b"} {
		if gone(t, "v1 ConfigMap", ns, n) {
			t.Errorf("ConfigMap %s deleted although the empty build was refused", n)
		}
	}
	e.wantInventory("app", "ConfigMap/"+ns+"/a", "ConfigMap/"+ns+"/b")

	o := e.Options()
	o.AllowEmpty = true
	cd = e.Deploy(o)
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"ConfigMap/" + ns + "/a": result.ActionDeleted,
		"ConfigMap/" + ns + "/b": result.ActionDeleted,
	})
	for _, n := range []string{"a", "b"} {
		if !gone(t, "v1 ConfigMap", ns, n) {
			t.Errorf("ConfigMap %s not pruned with AllowEmpty", n)
		}
	}
	e.wantInventory("app")
	if gone(t, "v1 Namespace", "", ns) {
		t.Errorf("the namespace of another Kustomization was deleted")
	}
}

func TestVanishedKustomizationRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "vanish")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/keep.yaml":            e.Kustomization("keep", app+"/keep"),
		app + "/keep/kustomization.yaml": deploytest.Kustomize("ns.yaml", "k.yaml"),
		app + "/keep/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/keep/k.yaml":             deploytest.ConfigMapYAML(ns, "k", map[string]string{"v": "1"}),
		e.Path + "/gone.yaml":            e.Kustomization("gone", app+"/gone", "dependsOn: [{name: "+e.Name("keep")+"}]"),
		app + "/gone/kustomization.yaml": deploytest.Kustomize("g1.yaml", "g2.yaml"),
		app + "/gone/g1.yaml":            deploytest.ConfigMapYAML(ns, "g1", nil),
		app + "/gone/g2.yaml":            deploytest.ConfigMapYAML(ns, "g2", nil),
	})
	e.MustSucceed(e.Deploy(e.Options()))

	// Remove the Kustomization, and change the one that stays.
	e.Write(map[string]string{
		e.Path + "/gone.yaml": "",
		app + "/keep/k.yaml":  deploytest.ConfigMapYAML(ns, "k", map[string]string{"v": "2"}),
	})
	cd := e.Deploy(e.Options())
	if cd.Error == "" || !cd.Failed() {
		t.Fatalf("a vanished Kustomization was not refused")
	}
	if !strings.Contains(cd.Error, e.Ref("gone").String()) || !strings.Contains(cd.Error, "prune-removed") {
		t.Errorf("error does not name %s and the way out: %s", e.Ref("gone"), cd.Error)
	}
	for _, n := range []string{"g1", "g2"} {
		if gone(t, "v1 ConfigMap", ns, n) {
			t.Errorf("ConfigMap %s deleted although the removal was refused", n)
		}
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "k"), "v"); got != "1" {
		t.Errorf("the refused run still applied a change (k: v=%s)", got)
	}
	if cm, _ := e.Inventory("gone"); cm == nil {
		t.Errorf("the inventory of the vanished Kustomization was removed")
	}

	o := e.Options()
	o.PruneRemoved = true
	cd = e.Deploy(o)
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "gone"), map[string]result.Action{
		"ConfigMap/" + ns + "/g1": result.ActionDeleted,
		"ConfigMap/" + ns + "/g2": result.ActionDeleted,
	})
	for _, n := range []string{"g1", "g2"} {
		if !gone(t, "v1 ConfigMap", ns, n) {
			t.Errorf("ConfigMap %s not deleted with PruneRemoved", n)
		}
	}
	if cm, _ := e.Inventory("gone"); cm != nil {
		t.Errorf("the inventory of the removed Kustomization is still there")
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "k"), "v"); got != "2" {
		t.Errorf("k: v=%s, want 2", got)
	}
	if gone(t, "v1 Namespace", "", ns) {
		t.Errorf("namespace deleted")
	}
	// Redeploying is quiet now.
	e.MustSucceed(e.Deploy(e.Options()))
}

func TestDependsOnOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "order")
	ns := e.ID
	app := "apps/" + e.ID
	// A is healthy only once its Deployment was available for 3s: B,
	// which depends on A, must not be applied before.
	e.Write(map[string]string{
		e.Path + "/b.yaml":            e.Kustomization("b", app+"/b", "dependsOn: [{name: "+e.Name("a")+"}]"),
		app + "/b/kustomization.yaml": deploytest.Kustomize("b.yaml"),
		app + "/b/b.yaml":             deploytest.ConfigMapYAML(ns, "b", nil),
		e.Path + "/a.yaml":            e.Kustomization("a", app+"/a", "wait: true"),
		app + "/a/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "deployment.yaml"),
		app + "/a/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a/a.yaml":             deploytest.ConfigMapYAML(ns, "a", nil),
		app + "/a/deployment.yaml":    strings.Replace(deploytest.DeploymentYAML(ns, "slow", "slow"), "  replicas: 1\n", "  replicas: 1\n  minReadySeconds: 3\n", 1),
	})
	cd := e.Deploy(e.Options())
	e.MustSucceed(cd)

	// Observer order: A created and ready, then B created.
	idx := func(ks, msg string) int {
		for i, ev := range e.Events.All() {
			if ev.Kustomization != nil && *ev.Kustomization == e.Ref(ks) && strings.Contains(ev.Message, msg) {
				return i
			}
		}
		t.Fatalf("no event %q for %s", msg, e.Ref(ks))
		return -1
	}
	aCreated, aReady, bCreated := idx("a", "ConfigMap/"+ns+"/a created"), idx("a", "ready"), idx("b", "ConfigMap/"+ns+"/b created")
	if !(aCreated < aReady && aReady < bCreated) {
		t.Errorf("event order: A created #%d, A ready #%d, B created #%d; want A created < A ready < B created", aCreated, aReady, bCreated)
	}
	a := mustGet(t, "v1 ConfigMap", ns, "a").GetCreationTimestamp()
	b := mustGet(t, "v1 ConfigMap", ns, "b").GetCreationTimestamp()
	if d := b.Sub(a.Time); d < 2*time.Second {
		t.Errorf("B created %s after A; A needs 3s to be healthy", d)
	}
	// Results come in dependency order.
	var order []string
	for _, kd := range cd.Kustomizations {
		order = append(order, kd.Ref.Name)
	}
	if got, want := strings.Join(order, ","), e.ID+","+e.Name("a")+","+e.Name("b"); got != want {
		t.Errorf("result order %s, want %s", got, want)
	}
}

func TestDependencyFailureBlocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "blocked")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/a.yaml":            e.Kustomization("a", app+"/a"),
		app + "/a/kustomization.yaml": deploytest.Kustomize("ns.yaml", "svc.yaml"),
		app + "/a/ns.yaml":            deploytest.NamespaceYAML(ns),
		// The API server rejects the port.
		app + "/a/svc.yaml": `apiVersion: v1
kind: Service
metadata: {name: bad, namespace: ` + ns + `}
spec:
  selector: {app: x}
  ports: [{port: 70000}]
`,
		e.Path + "/b.yaml":               e.Kustomization("b", app+"/b", "dependsOn: [{name: "+e.Name("a")+"}]"),
		app + "/b/kustomization.yaml":    deploytest.Kustomize("b.yaml"),
		app + "/b/b.yaml":                deploytest.ConfigMapYAML(ns, "b", nil),
		e.Path + "/c.yaml":               e.Kustomization("c", app+"/c", "dependsOn: [{name: "+e.Name("b")+"}]"),
		app + "/c/kustomization.yaml":    deploytest.Kustomize("c.yaml"),
		app + "/c/c.yaml":                deploytest.ConfigMapYAML(ns, "c", nil),
		e.Path + "/free.yaml":            e.Kustomization("free", app+"/free"),
		app + "/free/kustomization.yaml": deploytest.Kustomize("free.yaml"),
		app + "/free/free.yaml":          deploytest.NamespaceYAML(ns + "-free"),
	})
	cd := e.Deploy(e.Options())
	if !cd.Failed() {
		t.Fatal("ClusterDeploy.Failed() is false")
	}
	a := e.kd(cd, "a")
	if a.Status != result.StatusFailed || !strings.Contains(a.Error, "Service/"+ns+"/bad") {
		t.Errorf("A: %s %q, want failed naming Service/%s/bad", a.Status, a.Error, ns)
	}
	for _, name := range []string{"b", "c"} {
		kd := e.kd(cd, name)
		if kd.Status != result.StatusBlocked || kd.Reason != result.ReasonDependencyNotReady {
			t.Errorf("%s: %s (%s), want blocked (DependencyNotReady)", kd.Ref, kd.Status, kd.Reason)
		}
		if !strings.Contains(kd.Error, "dependency") {
			t.Errorf("%s: error %q does not mention the dependency", kd.Ref, kd.Error)
		}
		if len(kd.Changes) != 0 {
			t.Errorf("%s: changes %v although blocked", kd.Ref, kd.Changes)
		}
		if get(t, "v1 ConfigMap", ns, name) != nil {
			t.Errorf("ConfigMap %s of blocked %s was applied", name, kd.Ref)
		}
		if cm, _ := e.Inventory(name); cm != nil {
			t.Errorf("blocked %s has an inventory", kd.Ref)
		}
	}
	if get(t, "v1 Service", ns, "bad") != nil {
		t.Errorf("the invalid Service exists")
	}
	// An independent Kustomization is deployed all the same.
	if kd := e.kd(cd, "free"); kd.Status != result.StatusApplied {
		t.Errorf("%s: %s, want applied", kd.Ref, kd.Status)
	}
	mustGet(t, "v1 Namespace", "", ns+"-free")
}

func TestHealthTimeoutReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "health")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app, "wait: true", "timeout: 10s"),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "cm.yaml", "stuck.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/cm.yaml":            deploytest.ConfigMapYAML(ns, "fine", nil),
		// No node matches: the pod stays Pending, the Deployment never
		// becomes available.
		app + "/stuck.yaml": deploytest.DeploymentYAML(ns, "stuck", "stuck", "nodeSelector: {slipway.test/none: \"true\"}"),
	})
	o := e.Options()
	o.ProgressInterval = time.Second
	start := time.Now()
	cd := e.Deploy(o)
	took := time.Since(start)
	kd := e.kd(cd, "app")
	if kd.Status != result.StatusFailed {
		t.Fatalf("status %s, want failed", kd.Status)
	}
	if took < 9*time.Second || took > 25*time.Second {
		t.Errorf("took %s; spec.timeout is 10s", took)
	}
	if len(kd.Unhealthy) != 1 {
		t.Fatalf("unhealthy %+v, want only the Deployment", kd.Unhealthy)
	}
	u := kd.Unhealthy[0]
	if u.ID.String() != "Deployment/"+ns+"/stuck" || u.Message == "" || u.Origin.File != app+"/stuck.yaml" {
		t.Errorf("unhealthy entry %+v: want Deployment/%s/stuck with a message and its file", u, ns)
	}
	if !strings.Contains(kd.Error, "health check failed") || !strings.Contains(kd.Error, "Deployment/"+ns+"/stuck") {
		t.Errorf("error %q does not name the unhealthy Deployment", kd.Error)
	}
	// Everything was applied and is tracked, though.
	e.wantInventory("app", "Namespace/"+ns, "ConfigMap/"+ns+"/fine", "Deployment/"+ns+"/stuck")
	waiting := e.Events.Matching("waiting for")
	if len(waiting) < 3 {
		t.Errorf("%d progress events in 10s with ProgressInterval 1s, want at least 3", len(waiting))
	}
	for _, ev := range waiting {
		if !strings.Contains(ev.Message, "Deployment/"+ns+"/stuck") || strings.Contains(ev.Message, "ConfigMap/"+ns+"/fine") {
			t.Errorf("progress event %q should name the Deployment only", ev.Message)
		}
	}
	for i := 1; i < len(waiting); i++ {
		if gap := waiting[i].At.Sub(waiting[i-1].At); gap < 900*time.Millisecond || gap > 5*time.Second {
			t.Errorf("progress events %s apart, want about ProgressInterval (1s) to 2s", gap)
		}
	}
	if !strings.Contains(deploytest.DeployText(cd), "stuck") {
		t.Errorf("the report does not name the unhealthy Deployment:\n%s", deploytest.DeployText(cd))
	}
}

func TestConcurrentDeploysQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "lock")
	ns := e.ID
	app := "apps/" + e.ID
	slow := func(rev string) string {
		d := strings.Replace(deploytest.DeploymentYAML(ns, "slow", "slow"), "  replicas: 1\n", "  replicas: 1\n  minReadySeconds: 3\n", 1)
		return strings.Replace(d, "      labels:\n        app: slow\n", "      labels:\n        app: slow\n      annotations:\n        rev: \""+rev+"\"\n", 1)
	}
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app, "wait: true"),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "deployment.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/deployment.yaml":    slow("1"),
	})
	cb := e.Build()

	type run struct {
		holder string
		ev     *deploytest.Recorder
		cd     *result.ClusterDeploy
		end    time.Time
	}
	runs := []*run{{holder: "test/lock-1"}, {holder: "test/lock-2"}}
	var wg sync.WaitGroup
	for _, r := range runs {
		r.ev = deploytest.NewRecorder(t)
		o := e.Options()
		o.Holder = r.holder
		o.Observer = r.ev.Observe
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.cd = deploy.New(kube, o).Deploy(context.Background(), cb)
			r.end = time.Now()
		}()
	}
	wg.Wait()
	var waited []*run
	for i, r := range runs {
		t.Logf("run %s:\n%s", r.holder, deploytest.DeployText(r.cd))
		e.MustSucceed(r.cd)
		other := runs[1-i]
		if evs := r.ev.Matching("waiting for the lock held by"); len(evs) > 0 {
			waited = append(waited, r)
			if !strings.Contains(evs[0].Message, other.holder) {
				t.Errorf("%s: %q does not name the holder %s", r.holder, evs[0].Message, other.holder)
			}
			if len(evs) != 1 {
				t.Errorf("%s: %d lock events, want one", r.holder, len(evs))
			}
		}
	}
	if len(waited) != 1 {
		t.Fatalf("%d of the two concurrent runs waited for the lock, want exactly one", len(waited))
	}
	// The waiting run applied only after the other finished: it found
	// everything in place.
	w := waited[0]
	for _, kd := range w.cd.Kustomizations {
		for _, c := range kd.Changes {
			if c.Action != result.ActionUnchanged {
				t.Errorf("the run that waited saw %s %s: the runs overlapped", c.ID, c.Action)
			}
		}
	}
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: deploy.SystemNamespace, Name: "lock-" + deploy.ClusterPathLabel(e.Path)}
	if err := kube.Client.Get(t.Context(), key, lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("lock still held by %s after both runs", *h)
	}

	// A run that cannot wait long enough gives up, naming the holder.
	e.Write(map[string]string{app + "/deployment.yaml": slow("2")})
	cb = e.Build()
	first := make(chan *result.ClusterDeploy, 1)
	go func() {
		o := e.Options()
		o.Holder = "test/lock-long"
		first <- deploy.New(kube, o).Deploy(context.Background(), cb)
	}()
	eventually(t, 20*time.Second, "the first run to take the lock", func() bool {
		l := &coordinationv1.Lease{}
		return kube.Client.Get(t.Context(), key, l) == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == "test/lock-long"
	})
	o := e.Options()
	o.Holder = "test/lock-short"
	o.LockWait = time.Second
	cd := deploy.New(kube, o).Deploy(context.Background(), cb)
	t.Logf("impatient run:\n%s", deploytest.DeployText(cd))
	want := (&deploy.LockError{ClusterPath: e.Path, Holder: "test/lock-long"}).Error()
	want = want[:strings.Index(want, "(since")]
	if !strings.HasPrefix(cd.Error, want) || !strings.Contains(cd.Error, "gave up waiting") {
		t.Errorf("error %q, want the LockError %q...", cd.Error, want)
	}
	if len(cd.Kustomizations) != 0 || !cd.Failed() {
		t.Errorf("a run without the lock did something: %+v", cd.Kustomizations)
	}
	e.MustSucceed(<-first)
}

func TestForeignApplySet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "foreign")
	ns := e.ID
	app := "apps/" + e.ID
	if err := local.Apply(t.Context(), deploytest.NamespaceYAML(ns)+`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: taken
  namespace: `+ns+`
  labels:
    applyset.kubernetes.io/part-of: applyset-other-v1
data: {owner: other}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: flux
  namespace: `+ns+`
  labels:
    kustomize.toolkit.fluxcd.io/name: someone
    kustomize.toolkit.fluxcd.io/namespace: flux-system
data: {owner: flux}
`); err != nil {
		t.Fatal(err)
	}
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("taken.yaml", "flux.yaml", "mine.yaml"),
		app + "/taken.yaml":         deploytest.ConfigMapYAML(ns, "taken", map[string]string{"owner": "slipway"}),
		app + "/flux.yaml":          deploytest.ConfigMapYAML(ns, "flux", map[string]string{"owner": "slipway"}),
		app + "/mine.yaml":          deploytest.ConfigMapYAML(ns, "mine", nil),
	})
	cd := e.Deploy(e.Options())
	kd := e.kd(cd, "app")
	if kd.Status != result.StatusFailed || kd.Reason != result.ReasonOwnershipConflict {
		t.Fatalf("status %s (%s), want failed (OwnershipConflict)", kd.Status, kd.Reason)
	}
	for _, want := range []string{"ownership conflict", "ConfigMap/" + ns + "/taken", "applyset-other-v1", "ConfigMap/" + ns + "/flux", "flux-system/someone", "adopt"} {
		if !strings.Contains(kd.Error, want) {
			t.Errorf("error %q lacks %q", kd.Error, want)
		}
	}
	if strings.Contains(kd.Error, "/mine") {
		t.Errorf("error names an object without owner: %s", kd.Error)
	}
	if get(t, "v1 ConfigMap", ns, "mine") != nil {
		t.Errorf("ConfigMap mine applied despite the conflict")
	}
	taken := mustGet(t, "v1 ConfigMap", ns, "taken")
	if taken.GetLabels()[deploy.LabelApplySetPartOf] != "applyset-other-v1" || cmData(t, taken, "owner") != "other" {
		t.Errorf("the foreign object was changed: %v %v", taken.GetLabels(), taken.Object["data"])
	}

	o := e.Options()
	o.Adopt = true
	cd = e.Deploy(o)
	e.MustSucceed(cd)
	id := deploy.ApplySetID(e.Ref("app"))
	for _, n := range []string{"taken", "flux", "mine"} {
		u := mustGet(t, "v1 ConfigMap", ns, n)
		if got := u.GetLabels()[deploy.LabelApplySetPartOf]; got != id {
			t.Errorf("ConfigMap %s: part-of %q, want ours %q", n, got, id)
		}
		if got := u.GetLabels()["kustomize.toolkit.fluxcd.io/name"]; got != e.Name("app") {
			t.Errorf("ConfigMap %s: kustomize.toolkit.fluxcd.io/name %q, want %s", n, got, e.Name("app"))
		}
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "taken"), "owner"); got != "slipway" {
		t.Errorf("adopted ConfigMap taken: owner=%q", got)
	}
	e.wantInventory("app", "ConfigMap/"+ns+"/taken", "ConfigMap/"+ns+"/flux", "ConfigMap/"+ns+"/mine")
	// Adopted objects are ours now: no conflict without Adopt.
	e.MustSucceed(e.Deploy(e.Options()))
}

// TestForeignOwnerAfterFailedRun: a run that failed records the objects it
// meant to create in its inventory before applying; one of them created by
// someone else meanwhile must still be refused, not silently taken over.
func TestForeignOwnerAfterFailedRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "foreign2")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "web.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/web.yaml":           deploytest.DeploymentYAML(ns, "web", "web-v1"),
	})
	e.MustSucceed(e.Deploy(e.Options()))

	// x joins, but the run fails on an immutable field: x is not created.
	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "web.yaml", "x.yaml"),
		app + "/web.yaml":           deploytest.DeploymentYAML(ns, "web", "web-v2"),
		app + "/x.yaml":             deploytest.ConfigMapYAML(ns, "x", map[string]string{"owner": "slipway"}),
	})
	if kd := e.kd(e.Deploy(e.Options()), "app"); kd.Status != result.StatusFailed {
		t.Fatalf("status %s, want failed (immutable field)", kd.Status)
	}
	if get(t, "v1 ConfigMap", ns, "x") != nil {
		t.Fatalf("x was created by the failed run")
	}
	// Someone else creates x.
	if err := local.Apply(t.Context(), `apiVersion: v1
kind: ConfigMap
metadata:
  name: x
  namespace: `+ns+`
  labels: {applyset.kubernetes.io/part-of: applyset-other-v1}
data: {owner: other}
`); err != nil {
		t.Fatal(err)
	}
	e.Write(map[string]string{app + "/web.yaml": deploytest.DeploymentYAML(ns, "web", "web-v1")})
	cd := e.Deploy(e.Options())
	x := mustGet(t, "v1 ConfigMap", ns, "x")
	if owner := x.GetLabels()[deploy.LabelApplySetPartOf]; owner != "applyset-other-v1" || cmData(t, x, "owner") != "other" {
		t.Errorf("the foreign ConfigMap x was taken over without --adopt (part-of %s, owner %s)", owner, cmData(t, x, "owner"))
	}
	kd := e.kd(cd, "app")
	if kd.Status != result.StatusFailed || !strings.Contains(kd.Error, "ConfigMap/"+ns+"/x") || !strings.Contains(kd.Error, "applyset-other-v1") {
		t.Errorf("status %s %q, want an ownership conflict naming ConfigMap/%s/x", kd.Status, kd.Error, ns)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "dryrun")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "b.yaml", "same.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "1"}),
		app + "/b.yaml":             deploytest.ConfigMapYAML(ns, "b", nil),
		app + "/same.yaml":          deploytest.ConfigMapYAML(ns, "same", nil),
	})
	e.MustSucceed(e.Deploy(e.Options()))
	objs := [][3]string{{"v1 Namespace", "", ns}, {"v1 ConfigMap", ns, "a"}, {"v1 ConfigMap", ns, "b"}, {"v1 ConfigMap", ns, "same"}}
	before := resourceVersions(t, objs)
	inv, _ := e.Inventory("app")

	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "c.yaml", "same.yaml"),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "2"}),
		app + "/b.yaml":             "",
		app + "/c.yaml":             deploytest.ConfigMapYAML(ns, "c", nil),
	})
	o := e.Options()
	o.DryRun = true
	cd := e.Deploy(o)
	e.MustSucceed(cd)
	if !cd.DryRun {
		t.Errorf("ClusterDeploy.DryRun is false")
	}
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:           result.ActionUnchanged,
		"ConfigMap/" + ns + "/a":    result.ActionConfigured,
		"ConfigMap/" + ns + "/b":    result.ActionDeleted,
		"ConfigMap/" + ns + "/c":    result.ActionCreated,
		"ConfigMap/" + ns + "/same": result.ActionUnchanged,
	})
	after := resourceVersions(t, objs)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("dry run changed %s (resourceVersion %s -> %s)", k, v, after[k])
		}
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "a"), "k"); got != "1" {
		t.Errorf("dry run applied a: k=%s", got)
	}
	if get(t, "v1 ConfigMap", ns, "c") != nil {
		t.Errorf("dry run created c")
	}
	if inv2, _ := e.Inventory("app"); inv2.ResourceVersion != inv.ResourceVersion {
		t.Errorf("dry run rewrote the inventory")
	}

	// The real run does what the dry run said.
	cd = e.Deploy(e.Options())
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:           result.ActionUnchanged,
		"ConfigMap/" + ns + "/a":    result.ActionConfigured,
		"ConfigMap/" + ns + "/b":    result.ActionDeleted,
		"ConfigMap/" + ns + "/c":    result.ActionCreated,
		"ConfigMap/" + ns + "/same": result.ActionUnchanged,
	})
}

// TestDryRunMatchesRealRun: whatever Flux's annotations and spec.force
// make the real run do, the dry run announces the same.
func TestDryRunMatchesRealRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "dryexact")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "keep.yaml", "once.yaml", "ignored.yaml", "web.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/keep.yaml":          deploytest.ConfigMapYAML(ns, "keep", nil, "kustomize.toolkit.fluxcd.io/prune: disabled"),
		app + "/once.yaml":          deploytest.ConfigMapYAML(ns, "once", map[string]string{"k": "1"}, "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent"),
		app + "/ignored.yaml":       deploytest.ConfigMapYAML(ns, "ignored", nil, "kustomize.toolkit.fluxcd.io/ssa: Ignore"),
		app + "/web.yaml":           deploytest.DeploymentYAML(ns, "web", "web-v1"),
	})
	e.MustSucceed(e.Deploy(e.Options()))
	uid := mustGet(t, "apps/v1 Deployment", ns, "web").GetUID()

	// keep leaves the repository, once changes, the Deployment's selector
	// changes under spec.force.
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app, "force: true"),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "once.yaml", "ignored.yaml", "web.yaml"),
		app + "/keep.yaml":          "",
		app + "/once.yaml":          deploytest.ConfigMapYAML(ns, "once", map[string]string{"k": "2"}, "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent"),
		app + "/web.yaml":           deploytest.DeploymentYAML(ns, "web", "web-v2"),
	})
	o := e.Options()
	o.DryRun = true
	dry := e.Deploy(o)
	if mustGet(t, "apps/v1 Deployment", ns, "web").GetUID() != uid || gone(t, "v1 ConfigMap", ns, "keep") {
		t.Fatalf("the dry run changed the cluster")
	}
	real := e.Deploy(e.Options())
	e.MustSucceed(real)
	want := map[string]result.Action{
		"Namespace/" + ns:              result.ActionUnchanged,
		"ConfigMap/" + ns + "/keep":    result.ActionSkipped,
		"ConfigMap/" + ns + "/once":    result.ActionSkipped,
		"ConfigMap/" + ns + "/ignored": result.ActionSkipped,
		"Deployment/" + ns + "/web":    result.ActionCreated,
	}
	e.wantActions(e.kd(real, "app"), want)
	if mustGet(t, "apps/v1 Deployment", ns, "web").GetUID() == uid || gone(t, "v1 ConfigMap", ns, "keep") {
		t.Errorf("the real run did not recreate the Deployment, or deleted keep")
	}
	t.Run("dry run", func(t *testing.T) {
		if kd := e.kd(dry, "app"); kd.Status != result.StatusApplied {
			t.Errorf("dry run: %s (%s), but the real run succeeded", kd.Status, kd.Error)
		}
		inner := *e.Env
		inner.T = t
		dryEnv := env{&inner}
		dryEnv.wantActions(e.kd(dry, "app"), want)
	})
}

// A first dry run, of objects in a namespace that does not exist yet.
func TestDryRunFirstDeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "dryfresh")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", nil),
	})
	o := e.Options()
	o.DryRun = true
	cd := e.Deploy(o)
	if kd := e.kd(cd, "app"); kd.Status == result.StatusFailed && strings.Contains(kd.Error, `namespaces "`+ns+`" not found`) {
		// Objects are dry-run one by one; the namespace the same build
		// creates does not exist for the server. Flux's own `flux diff`
		// has the same limitation (fluxcd/flux2#3270).
	}
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:        result.ActionCreated,
		"ConfigMap/" + ns + "/a": result.ActionCreated,
	})
	if get(t, "v1 Namespace", "", ns) != nil {
		t.Errorf("dry run created the namespace")
	}
	if cm, _ := e.Inventory("app"); cm != nil {
		t.Errorf("dry run wrote an inventory")
	}
	l := &coordinationv1.Lease{}
	if err := kube.Client.Get(t.Context(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: "lock-" + deploy.ClusterPathLabel(e.Path)}, l); err == nil {
		t.Errorf("dry run took the lock")
	}
}

func TestEncryptedSecretWithoutKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sops")
	ns := e.ID
	app := "apps/" + e.ID
	secret, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "fleet", "clusters", "staging", "cluster-secrets.sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e.Write(map[string]string{
		e.Path + "/ns.yaml":               e.Kustomization("ns", app+"/ns"),
		app + "/ns/kustomization.yaml":    deploytest.Kustomize("ns.yaml"),
		app + "/ns/ns.yaml":               deploytest.NamespaceYAML(ns),
		e.Path + "/app.yaml":              e.Kustomization("app", app+"/app", "dependsOn: [{name: "+e.Name("ns")+"}]", "decryption: {provider: sops}"),
		app + "/app/kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + ns + "\nresources:\n  - before.yaml\n  - secret.sops.yaml\n",
		app + "/app/before.yaml":          deploytest.ConfigMapYAML(ns, "before", nil),
		app + "/app/secret.sops.yaml":     string(secret),
		e.Path + "/after.yaml":            e.Kustomization("after", app+"/after", "dependsOn: [{name: "+e.Name("app")+"}]"),
		app + "/after/kustomization.yaml": deploytest.Kustomize("after.yaml"),
		app + "/after/after.yaml":         deploytest.ConfigMapYAML(ns, "after", nil),
	})
	cb := e.Build()
	cd := e.DeployBuild(context.Background(), e.Options(), cb)
	kd := e.kd(cd, "app")
	if kd.Status != result.StatusFailed {
		t.Fatalf("status %s, want failed", kd.Status)
	}
	if !strings.Contains(kd.Error, "Secret/"+ns+"/cluster-secrets") || !strings.Contains(kd.Error, "SOPS") {
		t.Errorf("error %q does not name the encrypted Secret", kd.Error)
	}
	if len(kd.Changes) != 0 {
		t.Errorf("changes %v, want none", kd.Changes)
	}
	for _, n := range []string{"before", "after"} {
		if get(t, "v1 ConfigMap", ns, n) != nil {
			t.Errorf("ConfigMap %s applied", n)
		}
	}
	if get(t, "v1 Secret", ns, "cluster-secrets") != nil {
		t.Errorf("the encrypted Secret was applied")
	}
	if cm, _ := e.Inventory("app"); cm != nil {
		t.Errorf("an inventory was written for the failed Kustomization")
	}
	if s := e.kd(cd, "after").Status; s != result.StatusBlocked {
		t.Errorf("dependant: %s, want blocked", s)
	}
	if s := e.kd(cd, "ns").Status; s != result.StatusApplied {
		t.Errorf("independent: %s, want applied", s)
	}
}
