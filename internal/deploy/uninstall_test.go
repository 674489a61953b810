package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

// The uninstall engine lives in internal/uninstall; its cluster tests stay
// here because they need a cluster path deployed first, which this
// package's test env (a git repo, builds, deploys) provides.
//
// The uninstall tests limit themselves to their own cluster path: the
// package's tests share one cluster and run in parallel. The full uninstall
// (slipway-system itself) is covered by the bootstrap tests.

func (e *env) uninstall(o uninstall.Options) *result.Uninstall {
	e.t.Helper()
	o.ClusterPaths = []string{e.path}
	o.Holder = "test/" + e.id
	o.LockWait, o.LockTTL = 30*time.Second, 6*time.Second
	o.Observer = e.ev.observe
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
	e.webApp("blue")
	e.mustSucceed(e.deploy(e.opts()))
	setID := deploy.ApplySetID(e.ref("app"))

	// A dry run reports and changes nothing.
	dry := e.uninstall(uninstall.Options{DryRun: true})
	if dry.Failed() {
		t.Fatalf("dry-run failed: %v %+v", dry.Errors, dry.Sections)
	}
	if c := changesOf(dry)["Deployment/"+e.id+"/web"]; c.Action != result.ActionUnmanaged {
		t.Errorf("dry-run: Deployment %+v, want unmanaged", c)
	}
	if cm, _ := e.inventory("app"); cm == nil {
		t.Fatalf("dry-run deleted the inventory")
	}
	if l := mustGet(t, "apps/v1 Deployment", e.id, "web").GetLabels(); l[deploy.LabelApplySetPartOf] != setID {
		t.Fatalf("dry-run removed the ApplySet label: %v", l)
	}

	u := e.uninstall(uninstall.Options{})
	if u.Failed() {
		t.Fatalf("uninstall failed: %v %+v", u.Errors, u.Sections)
	}
	for _, o := range e.webAppObjects() {
		live := mustGet(t, o[0], o[1], o[2])
		l := live.GetLabels()
		if _, ok := l[deploy.LabelApplySetPartOf]; ok {
			t.Errorf("%s %s/%s still labelled %s", o[0], o[1], o[2], deploy.LabelApplySetPartOf)
		}
		if l["kustomize.toolkit.fluxcd.io/name"] != e.name("app") {
			t.Errorf("%s %s/%s lost its other labels: %v", o[0], o[1], o[2], l)
		}
	}
	if cm, _ := e.inventory("app"); cm != nil {
		t.Errorf("inventory %s still exists", cm.Name)
	}
	if !gone(t, "coordination.k8s.io/v1 Lease", deploy.SystemNamespace, "lock-"+deploy.ClusterPathLabel(e.path)) {
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
	e.mustSucceed(e.deploy(e.opts()))
}

func TestUninstallPruneOrderAndFinalizers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "unprune")
	ns := e.id
	group := e.id + ".example.com"
	dir := "apps/" + e.id
	e.write(map[string]string{
		e.path + "/app.yaml":        e.ks("app", dir),
		dir + "/kustomization.yaml": kustomize("ns.yaml", "ns-keep.yaml", "crd.yaml", "widget.yaml", "web.yaml", "keep.yaml", "held.yaml"),
		dir + "/ns.yaml":            namespaceYAML(ns),
		dir + "/ns-keep.yaml":       namespaceYAML(ns + "-keep"),
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
		dir + "/web.yaml":    deploymentYAML(ns, "web", "web"),
		dir + "/keep.yaml":   configMapYAML(ns+"-keep", "keep", nil, "kustomize.toolkit.fluxcd.io/prune: disabled"),
		dir + "/held.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: " + ns + "\n  finalizers: [example.com/hold]\n",
	})
	e.mustSucceed(e.deploy(e.opts()))

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
	if cm, _ := e.inventory("app"); cm == nil {
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
	for _, r := range e.ev.all() {
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
	ns := e.id
	files := map[string]string{
		e.path + "/apps.yaml":                  e.ks("apps", "apps-"+e.id),
		"apps-" + e.id + "/kustomization.yaml": kustomize("ns.yaml", "hello.yaml"),
		"apps-" + e.id + "/ns.yaml":            namespaceYAML(ns),
		"apps-" + e.id + "/hello.yaml":         helmReleaseYAML(ns, "hello"),
	}
	for k, v := range helloChart {
		files[k] = v
	}
	e.write(files)
	e.mustSucceed(e.deployBuild(context.Background(), e.opts(), e.buildHelm(false)))
	if _, ok := e.configMap(ns, "hello"); !ok {
		t.Fatal("the release was not installed")
	}

	dry := e.uninstall(uninstall.Options{Prune: true, DryRun: true})
	if c := changesOf(dry)["HelmRelease/"+ns+"/hello"]; c.Action != result.ActionDeleted || !strings.Contains(c.Message, "would be uninstalled") {
		t.Errorf("dry-run: HelmRelease %+v, want would be uninstalled", c)
	}
	if _, ok := e.configMap(ns, "hello"); !ok {
		t.Fatal("a dry-run uninstalled the release")
	}

	u := e.uninstall(uninstall.Options{Prune: true})
	if u.Failed() {
		t.Fatalf("uninstall --prune: %v %+v", u.Errors, u.Sections)
	}
	if c := changesOf(u)["HelmRelease/"+ns+"/hello"]; c.Action != result.ActionDeleted {
		t.Errorf("HelmRelease: %+v, want uninstalled", c)
	}
	if _, ok := e.configMap(ns, "hello"); ok {
		t.Errorf("the release's ConfigMap is still there after uninstall --prune")
	}
	if !gone(t, "v1 Namespace", "", ns) {
		t.Errorf("namespace %s is still there after uninstall --prune", ns)
	}
}
