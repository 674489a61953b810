package deploy_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// TestLiveDiff deploys a build, changes the repository, and compares the
// new build with the cluster: a changed, an added and a pruned object are
// reported, and an unchanged Deployment, whose live copy is full of
// server-set defaults, is not.
func TestLiveDiff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "livediff")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "b.yaml", "web.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "1"}),
		app + "/b.yaml":             deploytest.ConfigMapYAML(ns, "b", map[string]string{"k": "1"}),
		app + "/web.yaml":           deploytest.DeploymentYAML(ns, "web", "web"),
	})
	e.MustSucceed(e.Deploy(e.Options()))

	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "c.yaml", "web.yaml"),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "2"}),
		app + "/b.yaml":             "",
		app + "/c.yaml":             deploytest.ConfigMapYAML(ns, "c", map[string]string{"k": "1"}),
	})
	d := deploy.New(kube, e.Options())
	st, err := d.LiveDiff(t.Context(), e.Build())
	if err != nil {
		t.Fatal(err)
	}
	res, err := diff.Compare([]*result.ClusterBuild{st.Live}, []*result.ClusterBuild{st.Desired}, diff.Options{Base: "cluster", Head: "worktree"})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasErrors() {
		t.Fatalf("errors: %+v", res.Clusters[0].Errors)
	}
	got := map[string]*diff.ObjectDiff{}
	for _, kd := range res.Clusters[0].Kustomizations {
		for _, od := range kd.Objects {
			got[od.ID.String()] = od
		}
	}
	want := map[string]diff.Action{
		"ConfigMap/" + ns + "/a": diff.Changed,
		"ConfigMap/" + ns + "/b": diff.Removed,
		"ConfigMap/" + ns + "/c": diff.Added,
	}
	for id, action := range want {
		if od := got[id]; od == nil || od.Action != action {
			t.Errorf("%s: %+v, want %s", id, od, action)
		}
	}
	if len(got) != len(want) {
		for id, od := range got {
			if _, ok := want[id]; !ok {
				t.Errorf("unexpected %s %s:\n%s", id, od.Action, od.Diff)
			}
		}
	}
	if a := got["ConfigMap/"+ns+"/a"]; a != nil {
		for _, line := range []string{`-  k: "1"`, `+  k: "2"`} {
			if !strings.Contains(a.Diff, line) {
				t.Errorf("the diff of a lacks %q:\n%s", line, a.Diff)
			}
		}
		for _, noise := range []string{"managedFields", "resourceVersion", "uid:", "creationTimestamp"} {
			if strings.Contains(a.Diff, noise) {
				t.Errorf("the diff of a shows %s:\n%s", noise, a.Diff)
			}
		}
	}
}

// TestDrift deploys a build, edits one field of one object out of band
// (an update under another field manager, as kubectl edit does), and
// finds that object, and only it, drifted from what the build applied.
func TestDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "drift")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "b.yaml", "web.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"k": "1"}),
		app + "/b.yaml":             deploytest.ConfigMapYAML(ns, "b", map[string]string{"k": "1"}),
		app + "/web.yaml":           deploytest.DeploymentYAML(ns, "web", "web"),
	})
	e.MustSucceed(e.Deploy(e.Options()))
	applied := e.Build()

	d := deploy.New(kube, e.Options())
	drifted := func() map[string]*diff.ObjectDiff {
		t.Helper()
		st, err := d.Drift(t.Context(), applied)
		if err != nil {
			t.Fatal(err)
		}
		res, err := diff.Compare([]*result.ClusterBuild{st.Desired}, []*result.ClusterBuild{st.Live}, diff.Options{Base: "base", Head: "cluster"})
		if err != nil {
			t.Fatal(err)
		}
		if res.HasErrors() {
			t.Fatalf("errors: %+v", res.Clusters[0].Errors)
		}
		got := map[string]*diff.ObjectDiff{}
		for _, kd := range res.Clusters[0].Kustomizations {
			for _, od := range kd.Objects {
				got[od.ID.String()] = od
			}
		}
		return got
	}
	if got := drifted(); len(got) != 0 {
		for id, od := range got {
			t.Errorf("before any edit, %s drifted:\n%s", id, od.Diff)
		}
	}

	cm := &corev1.ConfigMap{}
	if err := kube.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "a"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "edited-by-hand"
	if err := kube.Client.Update(t.Context(), cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	got := drifted()
	a := got["ConfigMap/"+ns+"/a"]
	if a == nil || a.Action != diff.Changed {
		t.Fatalf("the edited ConfigMap is not reported as drifted: %+v", got)
	}
	for _, line := range []string{`-  k: "1"`, `+  k: edited-by-hand`} {
		if !strings.Contains(a.Diff, line) {
			t.Errorf("the drift of a lacks %q:\n%s", line, a.Diff)
		}
	}
	for id, od := range got {
		if id != "ConfigMap/"+ns+"/a" {
			t.Errorf("%s reported as drifted (%s):\n%s", id, od.Action, od.Diff)
		}
	}
}

// --live compares a HelmRelease's rendered objects with the cluster too:
// nothing after a deploy; after a values change, the release's object that
// would change, with the change.
func TestLiveDiffHelmRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "livehelm")
	ns := e.ID
	app := "apps/" + e.ID
	files := map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "hello.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/hello.yaml":         deploytest.HelmReleaseYAML(ns, "hello", "values:", "  message: one"),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)
	e.MustSucceed(e.DeployBuild(t.Context(), e.Options(), e.BuildHelm(false)))

	releases := func() map[string]*diff.ObjectDiff {
		t.Helper()
		st, err := deploy.New(kube, e.Options()).LiveDiff(t.Context(), e.BuildHelm(false))
		if err != nil {
			t.Fatal(err)
		}
		res, err := diff.Compare([]*result.ClusterBuild{st.Live}, []*result.ClusterBuild{st.Desired}, diff.Options{Base: "cluster", Head: "worktree"})
		if err != nil {
			t.Fatal(err)
		}
		if res.HasErrors() {
			t.Fatalf("errors: %+v", res.Clusters[0].Errors)
		}
		got := map[string]*diff.ObjectDiff{}
		for _, kd := range res.Clusters[0].Kustomizations {
			for _, rd := range kd.Releases {
				for _, od := range rd.Objects {
					got[rd.Ref.String()+" "+od.ID.String()] = od
				}
			}
		}
		return got
	}
	if got := releases(); len(got) != 0 {
		for id, od := range got {
			t.Errorf("right after the deploy, %s shows as %s:\n%s", id, od.Action, od.Diff)
		}
	}

	e.Write(map[string]string{app + "/hello.yaml": deploytest.HelmReleaseYAML(ns, "hello", "values:", "  message: two")})
	got := releases()
	od := got[ns+"/hello ConfigMap/"+ns+"/hello"]
	if od == nil || od.Action != diff.Changed || !strings.Contains(od.Diff, "-  message: one") || !strings.Contains(od.Diff, "+  message: two") {
		t.Errorf("the release's ConfigMap: %+v (all: %v)", od, got)
	}
	if len(got) != 1 {
		t.Errorf("release objects in the live diff: %v, want only the ConfigMap", got)
	}
}

// --live reports what upgrading a release would delete: objects of the
// deployed revision (its stored manifest) the new rendering no longer has,
// except those Helm keeps (helm.sh/resource-policy: keep). Values the
// deployed release took from a Secret, since changed in the repository,
// are masked in them.
func TestLiveDiffHelmReleaseRemovals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "liveremove")
	ns := e.ID
	app := "apps/" + e.ID
	const oldSecret, newSecret = "Old_S3cret_Value", "New_S3cret_Value"
	secretYAML := func(v string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: release-secret\n  namespace: %s\nstringData:\n  values.yaml: |\n    password: %s\n", ns, v)
	}
	chart := "charts/removal-" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "secret.yaml", "release.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/secret.yaml":        secretYAML(oldSecret),
		app + "/release.yaml": strings.Replace(deploytest.HelmReleaseYAML(ns, "rel", "valuesFrom:", "  - kind: Secret", "    name: release-secret"),
			"./charts/hello", "./"+chart, 1),
		chart + "/Chart.yaml":  "apiVersion: v2\nname: removal\nversion: 0.1.0\n",
		chart + "/values.yaml": "name: first\nkeep: true\npassword: none\n",
		chart + "/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n" +
			"data:\n  password: {{ .Values.password | quote }}\n",
		chart + "/templates/kept.yaml": "{{- if .Values.keep }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n" +
			"  annotations:\n    helm.sh/resource-policy: keep\ndata:\n  password: {{ .Values.password | quote }}\n{{- end }}\n",
	})
	e.MustSucceed(e.DeployBuild(t.Context(), e.Options(), e.BuildHelm(false)))
	if cm, ok := e.ConfigMap(ns, "first"); !ok || cm.Data["password"] != oldSecret {
		t.Fatalf("premise: the release's ConfigMap holds the value from the Secret: %v", cm)
	}

	// The object renamed, the kept one dropped, the Secret's value changed.
	e.Write(map[string]string{
		app + "/secret.yaml": secretYAML(newSecret),
		app + "/release.yaml": strings.Replace(deploytest.HelmReleaseYAML(ns, "rel", "valuesFrom:", "  - kind: Secret", "    name: release-secret",
			"values:", "  name: second", "  keep: false"), "./charts/hello", "./"+chart, 1),
	})
	cb := e.BuildHelm(false)
	st, err := deploy.New(kube, e.Options()).LiveDiff(t.Context(), cb)
	if err != nil {
		t.Fatal(err)
	}
	res, err := diff.Compare([]*result.ClusterBuild{st.Live}, []*result.ClusterBuild{st.Desired}, diff.Options{Base: "cluster", Head: "worktree"})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasErrors() {
		t.Fatalf("errors: %+v", res.Clusters[0].Errors)
	}
	got := map[string]*diff.ObjectDiff{}
	for _, kd := range res.Clusters[0].Kustomizations {
		for _, rd := range kd.Releases {
			for _, od := range rd.Objects {
				got[rd.Ref.String()+" "+od.ID.String()] = od
			}
		}
	}
	rel := ns + "/rel "
	want := map[string]diff.Action{
		rel + "ConfigMap/" + ns + "/first":  diff.Removed,
		rel + "ConfigMap/" + ns + "/second": diff.Added,
	}
	for id, action := range want {
		if od := got[id]; od == nil || od.Action != action {
			t.Errorf("%s: %+v, want %s", id, od, action)
		}
	}
	for id, od := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected %s %s:\n%s", id, od.Action, od.Diff)
		}
	}
	if od := got[rel+"ConfigMap/"+ns+"/first"]; od != nil && !strings.Contains(od.Diff, "-  name: first") {
		t.Errorf("the removed ConfigMap's diff does not show it:\n%s", od.Diff)
	}
	var text, js bytes.Buffer
	if err := report.DiffText(&text, res, report.DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String()} {
		for _, v := range []string{oldSecret, newSecret} {
			if strings.Contains(out, v) {
				t.Errorf("the %s live diff shows a value from the Secret:\n%s", name, out)
			}
		}
	}
}

// A field the build fills from a plain Secret: after the Secret's value
// changes, the live diff (and the drift) must not print the value the
// cluster still holds — no masker knows it — yet must show that it changes.
func TestLiveDiffHidesLiveSecretValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "livesecret")
	ns := e.ID
	app := "apps/" + e.ID
	const oldValue, newValue = "old-live-s3cret-1111", "new-repo-s3cret-2222"
	vars := func(v string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: vars\n  namespace: %s\nstringData:\n  TOKEN: %s\n", ns, v)
	}
	// The app's Kustomization lives in the test's namespace, with the
	// Secret it substitutes from; the root creates both.
	appKs := strings.Replace(e.Kustomization("app", app, "dependsOn:", "  - name: "+e.ID, "    namespace: flux-system",
		"postBuild:", "  substituteFrom:", "    - kind: Secret", "      name: vars"), "namespace: flux-system\nspec", "namespace: "+ns+"\nspec", 1)
	appKs = strings.Replace(appKs, "    name: flux-system\n", "    name: flux-system\n    namespace: flux-system\n", 1)
	e.Write(map[string]string{
		e.Path + "/ns.yaml":         deploytest.NamespaceYAML(ns),
		e.Path + "/vars.yaml":       vars(oldValue),
		e.Path + "/app.yaml":        appKs,
		app + "/kustomization.yaml": deploytest.Kustomize("a.yaml"),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", map[string]string{"auth": "Bearer ${TOKEN}", "plain": "1"}),
	})
	e.MustSucceed(e.Deploy(e.Options()))
	e.Write(map[string]string{
		e.Path + "/vars.yaml": vars(newValue),
		app + "/a.yaml":       deploytest.ConfigMapYAML(ns, "a", map[string]string{"auth": "Bearer ${TOKEN}", "plain": "2"}),
	})
	st, err := deploy.New(kube, e.Options()).LiveDiff(t.Context(), e.Build())
	if err != nil {
		t.Fatal(err)
	}
	res, err := diff.Compare([]*result.ClusterBuild{st.Live}, []*result.ClusterBuild{st.Desired}, diff.Options{Base: "cluster", Head: "worktree"})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := report.DiffText(&text, res, report.DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	out := text.String() + js.String()
	for _, v := range []string{oldValue, newValue} {
		if strings.Contains(out, v) {
			t.Errorf("the live diff shows a secret value %q:\n%s", v, text.String())
		}
	}
	if !strings.Contains(text.String(), "auth: Bearer **redacted**") || !strings.Contains(text.String(), `plain: "2"`) {
		t.Errorf("the change is not shown:\n%s", text.String())
	}
}
