package uninstall_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

// The tests deploy a cluster path first (deploytest's repository, built
// and deployed by the deploy engine), then uninstall it. They limit
// themselves to their own cluster path: the package's tests share one
// cluster and run in parallel. The full uninstall (slipway-system itself)
// is covered by the bootstrap tests.

// env is one test's deployed repository and cluster path.
type env struct{ *deploytest.Env }

// newEnv starts a test's repository for the package's cluster, skipping
// the test when there is none.
func newEnv(t *testing.T, id string) *env {
	t.Helper()
	if local == nil {
		t.Skip(skipReason)
	}
	return &env{deploytest.New(t, kube, id)}
}

func mustGet(t *testing.T, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	return deploytest.MustGet(t, kube, apiVersionKind, ns, name)
}

func gone(t *testing.T, apiVersionKind, ns, name string) bool {
	t.Helper()
	return deploytest.Gone(t, kube, apiVersionKind, ns, name)
}

// uninstall runs the engine on the test's cluster path.
func (e *env) uninstall(o uninstall.Options) *result.Uninstall {
	e.T.Helper()
	o.ClusterPaths = []string{e.Path}
	o.Holder = "test/" + e.ID
	o.LockWait, o.LockTTL = 30*time.Second, 6*time.Second
	o.Observer = e.Events.Observe
	if o.Timeout == 0 {
		o.Timeout = 45 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return uninstall.Run(ctx, kube, o)
}

func changesOf(u *result.Uninstall) map[string]result.Change {
	out := map[string]result.Change{}
	for _, s := range u.Sections {
		for _, c := range s.Changes {
			out[c.ID.String()] = c
		}
	}
	return out
}

func TestUninstallKeepsWorkloadsRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "uninst")
	e.WebApp("blue")
	e.MustSucceed(e.Deploy(e.Options()))
	setID := deploy.ApplySetID(e.Ref("app"))

	// A dry run reports and changes nothing.
	dry := e.uninstall(uninstall.Options{DryRun: true})
	if dry.Failed() {
		t.Fatalf("dry-run failed: %v %+v", dry.Errors, dry.Sections)
	}
	if c := changesOf(dry)["Deployment/"+e.ID+"/web"]; c.Action != result.ActionUnmanaged {
		t.Errorf("dry-run: Deployment %+v, want unmanaged", c)
	}
	if cm, _ := e.Inventory("app"); cm == nil {
		t.Fatalf("dry-run deleted the inventory")
	}
	if l := mustGet(t, "apps/v1 Deployment", e.ID, "web").GetLabels(); l[deploy.LabelApplySetPartOf] != setID {
		t.Fatalf("dry-run removed the ApplySet label: %v", l)
	}

	u := e.uninstall(uninstall.Options{})
	if u.Failed() {
		t.Fatalf("uninstall failed: %v %+v", u.Errors, u.Sections)
	}
	for _, o := range e.WebAppObjects() {
		live := mustGet(t, o[0], o[1], o[2])
		l := live.GetLabels()
		if _, ok := l[deploy.LabelApplySetPartOf]; ok {
			t.Errorf("%s %s/%s still labelled %s", o[0], o[1], o[2], deploy.LabelApplySetPartOf)
		}
		if l["kustomize.toolkit.fluxcd.io/name"] != e.Name("app") {
			t.Errorf("%s %s/%s lost its other labels: %v", o[0], o[1], o[2], l)
		}
	}
	if cm, _ := e.Inventory("app"); cm != nil {
		t.Errorf("inventory %s still exists", cm.Name)
	}
	if !gone(t, "coordination.k8s.io/v1 Lease", deploy.SystemNamespace, "lock-"+deploy.ClusterPathLabel(e.Path)) {
		t.Errorf("the cluster path's lock still exists")
	}
	if gone(t, "v1 Namespace", "", deploy.SystemNamespace) {
		t.Errorf("a --path uninstall deleted %s, which other cluster paths use", deploy.SystemNamespace)
	}

	// Nothing left to uninstall is an error, not a silent success.
	again := e.uninstall(uninstall.Options{})
	if !again.Failed() || !strings.Contains(strings.Join(again.Errors, " "), "no inventory") {
		t.Errorf("second uninstall: %v, want a 'no inventory' error", again.Errors)
	}
	// Deploying again adopts nothing by surprise: the objects are unowned
	// now, and slipway takes unowned objects that carry its Kustomization's
	// labels back without --adopt.
	e.MustSucceed(e.Deploy(e.Options()))
}

func TestUninstallPruneOrderAndFinalizers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "unprune")
	ns := e.ID
	group := e.ID + ".example.com"
	dir := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", dir),
		dir + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "ns-keep.yaml", "crd.yaml", "widget.yaml", "web.yaml", "keep.yaml", "held.yaml"),
		dir + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		dir + "/ns-keep.yaml":       deploytest.NamespaceYAML(ns + "-keep"),
		dir + "/crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`,
		dir + "/widget.yaml": "apiVersion: " + group + "/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: " + ns + "\n",
		dir + "/web.yaml":    deploytest.DeploymentYAML(ns, "web", "web"),
		dir + "/keep.yaml":   deploytest.ConfigMapYAML(ns+"-keep", "keep", nil, "kustomize.toolkit.fluxcd.io/prune: disabled"),
		dir + "/held.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: " + ns + "\n  finalizers: [example.com/hold]\n",
	})
	e.MustSucceed(e.Deploy(e.Options()))

	// The finalizer holds one object: uninstall says so, keeps the
	// inventory, and exits as failed.
	u := e.uninstall(uninstall.Options{Prune: true, Timeout: 2 * time.Second})
	if !u.Failed() {
		t.Fatalf("uninstall --prune with a finalizer holding an object succeeded")
	}
	held := changesOf(u)["ConfigMap/"+ns+"/held"]
	if held.Action != result.ActionFailed || !strings.Contains(held.Message, "example.com/hold") || !strings.Contains(held.Message, "--force-finalizers") {
		t.Errorf("held ConfigMap: %+v, want failed naming the finalizer and --force-finalizers", held)
	}
	if cm, _ := e.Inventory("app"); cm == nil {
		t.Fatalf("inventory deleted although an object could not be removed")
	}
	// prune: disabled is honoured, and so is the namespace holding such an
	// object (deleting it would take the object with it).
	c := changesOf(u)
	for _, id := range []string{"ConfigMap/" + ns + "-keep/keep", "Namespace/" + ns + "-keep"} {
		if k := c[id]; k.Action != result.ActionUnmanaged {
			t.Errorf("%s: %+v, want unmanaged (kept)", id, k)
		}
	}
	// The stage holding a straggler stops the later ones.
	if gone(t, "apiextensions.k8s.io/v1 CustomResourceDefinition", "", "widgets."+group) {
		t.Errorf("the CRD was deleted although an earlier stage had not finished")
	}

	// --force-finalizers finishes the job.
	u = e.uninstall(uninstall.Options{Prune: true, ForceFinalizers: true, Timeout: 2 * time.Second})
	if u.Failed() {
		t.Fatalf("uninstall --prune --force-finalizers: %v %+v", u.Errors, u.Sections)
	}
	for _, o := range [][3]string{
		{"apps/v1 Deployment", ns, "web"},
		{"v1 ConfigMap", ns, "held"},
		{"apiextensions.k8s.io/v1 CustomResourceDefinition", "", "widgets." + group},
	} {
		if !gone(t, o[0], o[1], o[2]) {
			t.Errorf("%s %s/%s still exists after uninstall --prune", o[0], o[1], o[2])
		}
	}
	mustGet(t, "v1 ConfigMap", ns+"-keep", "keep")

	// Order: workloads, then namespaces, custom resource definitions last.
	var order []string
	for _, r := range e.Events.All() {
		if strings.HasPrefix(r.Message, "✔ ") && strings.HasSuffix(r.Message, " deleted") {
			order = append(order, strings.TrimSuffix(strings.TrimPrefix(r.Message, "✔ "), " deleted"))
		}
	}
	pos := func(id string) int {
		for i, o := range order {
			if o == id {
				return i
			}
		}
		t.Errorf("%s never reported deleted; deletions: %v", id, order)
		return -1
	}
	web, widget, namespace, crd := pos("Deployment/"+ns+"/web"), pos("Widget/"+ns+"/w"), pos("Namespace/"+ns), pos("CustomResourceDefinition/widgets."+group)
	if !(web < namespace && widget < namespace && namespace < crd) {
		t.Errorf("deletion order %v: want workloads, then the namespace, the CRD last", order)
	}
}

// Helm releases slipway installed stay with Helm on a plain uninstall and
// are uninstalled with --prune, before the namespace they live in goes.
func TestUninstallHelmReleases(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "unhelm")
	ns := e.ID
	files := map[string]string{
		e.Path + "/apps.yaml":                  e.Kustomization("apps", "apps-"+e.ID),
		"apps-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "hello.yaml"),
		"apps-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		"apps-" + e.ID + "/hello.yaml":         deploytest.HelmReleaseYAML(ns, "hello"),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)
	e.MustSucceed(e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false)))
	if _, ok := e.ConfigMap(ns, "hello"); !ok {
		t.Fatal("the release was not installed")
	}

	dry := e.uninstall(uninstall.Options{Prune: true, DryRun: true})
	if c := changesOf(dry)["HelmRelease/"+ns+"/hello"]; c.Action != result.ActionDeleted || !strings.Contains(c.Message, "would be uninstalled") {
		t.Errorf("dry-run: HelmRelease %+v, want would be uninstalled", c)
	}
	if _, ok := e.ConfigMap(ns, "hello"); !ok {
		t.Fatal("a dry-run uninstalled the release")
	}

	u := e.uninstall(uninstall.Options{Prune: true})
	if u.Failed() {
		t.Fatalf("uninstall --prune: %v %+v", u.Errors, u.Sections)
	}
	if c := changesOf(u)["HelmRelease/"+ns+"/hello"]; c.Action != result.ActionDeleted {
		t.Errorf("HelmRelease: %+v, want uninstalled", c)
	}
	if _, ok := e.ConfigMap(ns, "hello"); ok {
		t.Errorf("the release's ConfigMap is still there after uninstall --prune")
	}
	if !gone(t, "v1 Namespace", "", ns) {
		t.Errorf("namespace %s is still there after uninstall --prune", ns)
	}
}

// A release renamed while its HelmRelease was suspended is remembered as
// former in the inventory (the deploy engine's TestHelmReleaseRename):
// uninstall --prune finds it through that list and uninstalls it too.
func TestUninstallFormerRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "unformer")
	ns := e.ID
	hrFile := "apps-" + e.ID + "/app.yaml"
	release := func(name string, extra ...string) {
		e.Write(map[string]string{hrFile: deploytest.HelmReleaseYAML(ns, "app", append([]string{"releaseName: " + name, "values:", "  name: shared"}, extra...)...)})
	}
	files := map[string]string{
		e.Path + "/apps.yaml":                  e.Kustomization("apps", "apps-"+e.ID),
		"apps-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "app.yaml"),
		"apps-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)
	release("old")
	e.MustSucceed(e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false)))
	release("new", "suspend: true")
	e.MustSucceed(e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false)))
	if cm, _ := e.ConfigMap(ns, "shared"); cm == nil || cm.Annotations["meta.helm.sh/release-name"] != "old" {
		t.Fatal("a suspended HelmRelease was reconciled, or the first release is missing")
	}
	if cm, _ := e.Inventory("apps"); cm == nil || !strings.Contains(cm.Data["inventory"], `"fr":"`+ns+`/old"`) {
		t.Fatalf("the inventory does not remember release old as former: %v", cm)
	}
	helmSecrets := func(name string) int {
		list := &corev1.SecretList{}
		if err := kube.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{"name": name, "owner": "helm"}); err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}
	if helmSecrets("old") == 0 {
		t.Fatal("release old is not stored")
	}
	u := e.uninstall(uninstall.Options{Prune: true})
	if u.Failed() {
		t.Fatalf("uninstall failed: %+v", u)
	}
	if n := helmSecrets("old"); n != 0 {
		t.Errorf("uninstall --prune left the former release old (%d Secrets)", n)
	}
}
