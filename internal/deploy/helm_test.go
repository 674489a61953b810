package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

// helloChart is a chart committed in the test repository: one ConfigMap
// named after the release, holding the message and the password values.
var helloChart = map[string]string{
	"charts/hello/Chart.yaml":  "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
	"charts/hello/values.yaml": "message: default\npassword: none\nname: \"\"\n",
	"charts/hello/templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.name | default .Release.Name }}
data:
  message: {{ .Values.message | quote }}
  password: {{ .Values.password | quote }}
`,
}

// helmReleaseYAML is a HelmRelease of charts/hello in namespace ns; extra
// lines are added at spec level.
func helmReleaseYAML(ns, name string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/hello
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
`, name, ns)
	for _, x := range extra {
		b.WriteString("  " + x + "\n")
	}
	return b.String()
}

// buildHelm builds the test's cluster path with a chart cache that outlives
// the Builder: the release step installs the packaged charts from it.
func (e *env) buildHelm(allowErrors bool) *result.ClusterBuild {
	e.t.Helper()
	repo, err := source.OpenWorktree(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	opts := build.DefaultOptions(repo)
	opts.Helm = helm.Options{CacheDir: e.t.TempDir(), Network: source.RunNetwork(nil, true)}
	b, err := build.New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cb := b.BuildClusterPath(ctx, e.path)
	for _, f := range cb.Findings {
		line := report.NewMasker(cb.Sensitive).Mask(report.FindingLine(f))
		if f.Severity == result.SeverityError && !allowErrors {
			e.t.Fatalf("build of %s: %s", e.path, line)
		}
		e.t.Logf("build finding: %s", line)
	}
	return cb
}

func (e *env) release(kd *result.KustomizationDeploy, ns, name string) *result.ReleaseDeploy {
	e.t.Helper()
	for _, rd := range kd.Releases {
		if rd.Ref == (result.KustomizationRef{Namespace: ns, Name: name}) {
			return rd
		}
	}
	e.t.Fatalf("no release result for HelmRelease %s/%s in Kustomization %s", ns, name, kd.Ref)
	return nil
}

func (e *env) configMap(ns, name string) (*corev1.ConfigMap, bool) {
	e.t.Helper()
	cm := &corev1.ConfigMap{}
	err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return cm, true
}

// TestHelmReleaseLifecycle installs HelmReleases through Deployer.Deploy,
// redeploys without change, and removes one from the repository.
func TestHelmReleaseLifecycle(t *testing.T) {
	e := newEnv(t, "helmlife")
	ns := e.id
	files := map[string]string{
		e.path + "/infra.yaml":                  e.ks("infra", "infra-"+e.id),
		e.path + "/apps.yaml":                   e.ks("apps", "apps-"+e.id),
		"infra-" + e.id + "/kustomization.yaml": kustomize("ns.yaml"),
		"infra-" + e.id + "/ns.yaml":            namespaceYAML(ns),
		"apps-" + e.id + "/kustomization.yaml":  kustomize("values.yaml", "first.yaml", "second.yaml"),
		"apps-" + e.id + "/values.yaml": configMapYAML(ns, "hello-values", map[string]string{
			"values.yaml": "message: from a ConfigMap",
		}),
		// first depends on the infra Kustomization (its namespace), second
		// on first: second is installed only once first is.
		"apps-" + e.id + "/first.yaml": helmReleaseYAML(ns, "first",
			"dependsOn:", "  - name: "+e.name("infra"), "    namespace: flux-system",
			"valuesFrom:", "  - kind: ConfigMap", "    name: hello-values"),
		"apps-" + e.id + "/second.yaml": helmReleaseYAML(ns, "second",
			"dependsOn:", "  - name: first", "values:", "  message: second"),
	}
	for k, v := range helloChart {
		files[k] = v
	}
	e.write(files)

	cd := e.deployBuild(context.Background(), e.opts(), e.buildHelm(false))
	e.mustSucceed(cd)
	apps := e.kd(cd, "apps")
	for _, name := range []string{"first", "second"} {
		rd := e.release(apps, ns, name)
		if rd.Action != result.ReleaseInstalled || rd.Revision != 1 || rd.Chart.Name != "hello" {
			t.Errorf("%s: got %s revision %d chart %q, want installed revision 1 of hello: %s", name, rd.Action, rd.Revision, rd.Chart.Name, rd.Message)
		}
	}
	cm, ok := e.configMap(ns, "first")
	if !ok {
		t.Fatal("release first did not create its ConfigMap")
	}
	if cm.Data["message"] != "from a ConfigMap" {
		t.Errorf("valuesFrom not applied: message = %q", cm.Data["message"])
	}
	// The post-renderers ran at install: the object is what was rendered.
	if cm.Labels["helm.toolkit.fluxcd.io/name"] != "first" || cm.Labels["app.kubernetes.io/managed-by"] != "Helm" {
		t.Errorf("installed object lacks the labels it was rendered with: %v", cm.Labels)
	}
	// dependsOn: second starts only after first was installed.
	firstDone := e.ev.matching("helmrelease " + ns + "/first: installed")
	secondStart := e.ev.matching("HelmRelease " + ns + "/second: reconciling")
	if len(firstDone) == 0 || len(secondStart) == 0 || secondStart[0].at.Before(firstDone[0].at) {
		t.Errorf("second must be reconciled after first was installed (events: %d, %d)", len(firstDone), len(secondStart))
	}
	// The HelmRelease object is not applied, it is tracked.
	for _, c := range apps.Changes {
		if c.ID.Kind == "HelmRelease" {
			t.Errorf("HelmRelease object must not be applied: %v", c)
		}
	}
	inv := inventoryEntries(t, e.ref("apps"))
	if !strings.Contains(inv, `"id":"`+ns+`_second_helm.toolkit.fluxcd.io_HelmRelease"`) || !strings.Contains(inv, `"r":"second"`) {
		t.Errorf("inventory must track HelmRelease second with its release name: %s", inv)
	}

	// A redeploy changes nothing: no new revision.
	cd = e.deployBuild(context.Background(), e.opts(), e.buildHelm(false))
	e.mustSucceed(cd)
	for _, name := range []string{"first", "second"} {
		rd := e.release(e.kd(cd, "apps"), ns, name)
		if rd.Action != result.ReleaseUnchanged || rd.Revision != 1 {
			t.Errorf("redeploy of %s: %s revision %d, want unchanged revision 1: %s", name, rd.Action, rd.Revision, rd.Message)
		}
	}

	// A dry run of a changed value says it would upgrade, and changes nothing.
	e.write(map[string]string{"apps-" + e.id + "/values.yaml": configMapYAML(ns, "hello-values", map[string]string{
		"values.yaml": "message: changed",
	})})
	o := e.opts()
	o.DryRun = true
	cd = e.deployBuild(context.Background(), o, e.buildHelm(false))
	if rd := e.release(e.kd(cd, "apps"), ns, "first"); rd.Action != result.ReleaseUpgraded {
		t.Errorf("dry run: first %s, want upgraded (would): %s", rd.Action, rd.Message)
	}
	if cm, _ := e.configMap(ns, "first"); cm == nil || cm.Data["message"] != "from a ConfigMap" {
		t.Error("a dry run must not upgrade the release")
	}

	// Removing a HelmRelease from the repository uninstalls its release.
	e.write(map[string]string{
		"apps-" + e.id + "/kustomization.yaml": kustomize("values.yaml", "first.yaml"),
		"apps-" + e.id + "/second.yaml":        "",
	})
	cd = e.deployBuild(context.Background(), e.opts(), e.buildHelm(false))
	e.mustSucceed(cd)
	apps = e.kd(cd, "apps")
	if rd := e.release(apps, ns, "first"); rd.Action != result.ReleaseUpgraded || rd.Revision != 2 {
		t.Errorf("first: %s revision %d, want upgraded to revision 2: %s", rd.Action, rd.Revision, rd.Message)
	}
	if got := actions(apps)["HelmRelease/"+ns+"/second"]; got != result.ActionDeleted {
		t.Errorf("HelmRelease second: %q, want deleted (uninstalled)\n%s", got, deployText(cd))
	}
	if _, ok := e.configMap(ns, "second"); ok {
		t.Error("the ConfigMap of the uninstalled release is still there")
	}
	secrets := &corev1.SecretList{}
	if err := kube.Client.List(context.Background(), secrets, client.InNamespace(ns), client.MatchingLabels{"name": "second", "owner": "helm"}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("Helm still stores release second: %d Secrets", len(secrets.Items))
	}
	if inv := inventoryEntries(t, e.ref("apps")); strings.Contains(inv, "_second_") {
		t.Errorf("uninstalled HelmRelease still in the inventory: %s", inv)
	}
}

// TestHelmReleaseSecretValuesMasked: values a HelmRelease takes from a
// Secret never reach build or deploy output, even when the API server
// quotes them in an error.
func TestHelmReleaseSecretValuesMasked(t *testing.T) {
	e := newEnv(t, "helmmask")
	ns := e.id
	const secret = "Sup3r_Secret_Value"
	files := map[string]string{
		e.path + "/apps.yaml":                  e.ks("apps", "apps-"+e.id),
		"apps-" + e.id + "/kustomization.yaml": kustomize("ns.yaml", "secret.yaml", "release.yaml"),
		"apps-" + e.id + "/ns.yaml":            namespaceYAML(ns),
		"apps-" + e.id + "/secret.yaml": fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: hello-secret
  namespace: %s
stringData:
  values.yaml: |
    password: %s
  objname: %s
`, ns, secret, secret),
		// The object's name comes from the Secret too: an invalid name,
		// which the API server refuses, quoting it.
		"apps-" + e.id + "/release.yaml": helmReleaseYAML(ns, "leaky",
			"valuesFrom:", "  - kind: Secret", "    name: hello-secret",
			"  - kind: Secret", "    name: hello-secret", "    valuesKey: objname", "    targetPath: name"),
	}
	for k, v := range helloChart {
		files[k] = v
	}
	e.write(files)
	cb := e.buildHelm(false)

	var out bytes.Buffer
	if err := report.BuildYAML(&out, []*result.ClusterBuild{cb}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# Source: HelmRelease "+ns+"/leaky") {
		t.Fatalf("premise: the build output holds the rendered release:\n%s", out.String())
	}
	if strings.Contains(out.String(), secret) {
		t.Errorf("build output leaks the value from the Secret:\n%s", out.String())
	}

	o := e.opts()
	o.Timeout = 20 * time.Second
	cd := e.deployBuild(context.Background(), o, cb)
	apps := e.kd(cd, "apps")
	rd := e.release(apps, ns, "leaky")
	if rd.Action != result.ReleaseFailed || apps.Status != result.StatusFailed {
		t.Fatalf("premise: the release fails (%s) and fails its Kustomization (%s)", rd.Action, apps.Status)
	}
	if !cd.Failed() {
		t.Error("a failed release must fail the deploy")
	}
	m := report.MaskerFor([]*result.ClusterBuild{cb})
	var text, js bytes.Buffer
	if err := report.DeployText(&text, []*result.ClusterDeploy{cd}, m); err != nil {
		t.Fatal(err)
	}
	if err := report.DeployJSON(&js, []*result.ClusterDeploy{cd}, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cd)
	if !strings.Contains(string(raw), secret) {
		t.Logf("note: the API server's error did not quote the value: %s", rd.Message)
	}
	for name, s := range map[string]string{"text": text.String(), "json": js.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("deploy %s output leaks the value from the Secret:\n%s", name, s)
		}
		if !strings.Contains(s, "leaky") {
			t.Errorf("deploy %s output must report the release:\n%s", name, s)
		}
	}
}

// inventoryEntries returns the raw inventory of a Kustomization.
func inventoryEntries(t *testing.T, ref result.KustomizationRef) string {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: deploy.ParentName(ref)}, cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["inventory"]
}

// TestHelmReleaseRename: changing spec.releaseName uninstalls the former
// release before installing the new one, as helm-controller does — here
// the chart's object keeps its name, so installing first would fail on
// Helm's ownership check. A rename that cannot finish keeps the former
// release in the inventory, and uninstall --prune removes it too.
func TestHelmReleaseRename(t *testing.T) {
	e := newEnv(t, "helmrename")
	ns := e.id
	hrFile := "apps-" + e.id + "/app.yaml"
	release := func(name string, extra ...string) {
		e.write(map[string]string{hrFile: helmReleaseYAML(ns, "app", append([]string{"releaseName: " + name, "values:", "  name: shared"}, extra...)...)})
	}
	files := map[string]string{
		e.path + "/infra.yaml":                  e.ks("infra", "infra-"+e.id),
		e.path + "/apps.yaml":                   e.ks("apps", "apps-"+e.id, "dependsOn:", "  - name: "+e.name("infra")),
		"infra-" + e.id + "/kustomization.yaml": kustomize("ns.yaml"),
		"infra-" + e.id + "/ns.yaml":            namespaceYAML(ns),
		"apps-" + e.id + "/kustomization.yaml":  kustomize("app.yaml"),
	}
	for k, v := range helloChart {
		files[k] = v
	}
	e.write(files)
	release("old")
	e.mustSucceed(e.deployBuild(context.Background(), e.opts(), e.buildHelm(false)))
	owner := func() string {
		cm, ok := e.configMap(ns, "shared")
		if !ok {
			return ""
		}
		return cm.Annotations["meta.helm.sh/release-name"]
	}
	if got := owner(); got != "old" {
		t.Fatalf("ConfigMap shared owned by %q, want old", got)
	}
	helmSecrets := func(name string) int {
		list := &corev1.SecretList{}
		if err := kube.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{"name": name, "owner": "helm"}); err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}

	// A dry run says what it would do, and does nothing.
	release("new")
	o := e.opts()
	o.DryRun = true
	cd := e.deployBuild(context.Background(), o, e.buildHelm(false))
	if got := deployText(cd); !strings.Contains(got, "would uninstall former Helm release "+ns+"/old") {
		t.Errorf("dry run does not announce the uninstall:\n%s", got)
	}
	if owner() != "old" || helmSecrets("old") == 0 {
		t.Fatal("a dry run changed the releases")
	}

	cd = e.deployBuild(context.Background(), e.opts(), e.buildHelm(false))
	e.mustSucceed(cd)
	if rd := e.release(e.kd(cd, "apps"), ns, "app"); rd.Action != result.ReleaseInstalled || rd.ReleaseName != "new" {
		t.Errorf("new release: %s %q: %s", rd.Action, rd.ReleaseName, rd.Message)
	}
	if got := owner(); got != "new" {
		t.Errorf("ConfigMap shared owned by %q, want new", got)
	}
	if n := helmSecrets("old"); n != 0 {
		t.Errorf("release old still stored (%d Secrets): orphaned", n)
	}
	if !strings.Contains(deployText(cd), "former release "+ns+"/old uninstalled") {
		t.Errorf("the uninstall of the former release is not reported:\n%s", deployText(cd))
	}
	if inv := inventoryEntries(t, e.ref("apps")); !strings.Contains(inv, `"r":"new"`) || strings.Contains(inv, `"fr"`) {
		t.Errorf("inventory after the rename: %s", inv)
	}

	// A rename while the HelmRelease is suspended: nothing is uninstalled
	// or installed, and the inventory remembers release new as former.
	release("newer", "suspend: true")
	e.mustSucceed(e.deployBuild(context.Background(), e.opts(), e.buildHelm(false)))
	if inv := inventoryEntries(t, e.ref("apps")); !strings.Contains(inv, `"fr":"`+ns+`/new"`) {
		t.Fatalf("inventory forgot the former release: %s", inv)
	}
	if owner() != "new" {
		t.Fatal("a suspended HelmRelease was reconciled")
	}
	// uninstall --prune finds it through the former list.
	u := e.uninstall(uninstall.Options{Prune: true})
	if u.Failed() {
		t.Fatalf("uninstall failed: %+v", u)
	}
	if n := helmSecrets("new"); n != 0 {
		t.Errorf("uninstall --prune left the former release new (%d Secrets)", n)
	}
}
