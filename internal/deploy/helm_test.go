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
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

func (e *env) release(kd *result.KustomizationDeploy, ns, name string) *result.ReleaseDeploy {
	e.T.Helper()
	for _, rd := range kd.Releases {
		if rd.Ref == (result.KustomizationRef{Namespace: ns, Name: name}) {
			return rd
		}
	}
	e.T.Fatalf("no release result for HelmRelease %s/%s in Kustomization %s", ns, name, kd.Ref)
	return nil
}

// TestHelmReleaseLifecycle installs HelmReleases through Deployer.Deploy,
// redeploys without change, and removes one from the repository.
func TestHelmReleaseLifecycle(t *testing.T) {
	e := newEnv(t, "helmlife")
	ns := e.ID
	files := map[string]string{
		e.Path + "/infra.yaml":                  e.Kustomization("infra", "infra-"+e.ID),
		e.Path + "/apps.yaml":                   e.Kustomization("apps", "apps-"+e.ID),
		"infra-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml"),
		"infra-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		"apps-" + e.ID + "/kustomization.yaml":  deploytest.Kustomize("values.yaml", "first.yaml", "second.yaml"),
		"apps-" + e.ID + "/values.yaml": deploytest.ConfigMapYAML(ns, "hello-values", map[string]string{
			"values.yaml": "message: from a ConfigMap",
		}),
		// first depends on the infra Kustomization (its namespace), second
		// on first: second is installed only once first is.
		"apps-" + e.ID + "/first.yaml": deploytest.HelmReleaseYAML(ns, "first",
			"dependsOn:", "  - name: "+e.Name("infra"), "    namespace: flux-system",
			"valuesFrom:", "  - kind: ConfigMap", "    name: hello-values"),
		"apps-" + e.ID + "/second.yaml": deploytest.HelmReleaseYAML(ns, "second",
			"dependsOn:", "  - name: first", "values:", "  message: second"),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)

	cd := e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false))
	e.MustSucceed(cd)
	apps := e.kd(cd, "apps")
	for _, name := range []string{"first", "second"} {
		rd := e.release(apps, ns, name)
		if rd.Action != result.ReleaseInstalled || rd.Revision != 1 || rd.Chart.Name != "hello" {
			t.Errorf("%s: got %s revision %d chart %q, want installed revision 1 of hello: %s", name, rd.Action, rd.Revision, rd.Chart.Name, rd.Message)
		}
	}
	cm, ok := e.ConfigMap(ns, "first")
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
	firstDone := e.Events.Matching("helmrelease " + ns + "/first: installed")
	secondStart := e.Events.Matching("HelmRelease " + ns + "/second: reconciling")
	if len(firstDone) == 0 || len(secondStart) == 0 || secondStart[0].At.Before(firstDone[0].At) {
		t.Errorf("second must be reconciled after first was installed (events: %d, %d)", len(firstDone), len(secondStart))
	}
	// The HelmRelease object is not applied, it is tracked.
	for _, c := range apps.Changes {
		if c.ID.Kind == "HelmRelease" {
			t.Errorf("HelmRelease object must not be applied: %v", c)
		}
	}
	inv := inventoryEntries(t, e.Ref("apps"))
	if !strings.Contains(inv, `"id":"`+ns+`_second_helm.toolkit.fluxcd.io_HelmRelease"`) || !strings.Contains(inv, `"r":"second"`) {
		t.Errorf("inventory must track HelmRelease second with its release name: %s", inv)
	}

	// A redeploy changes nothing: no new revision.
	cd = e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false))
	e.MustSucceed(cd)
	for _, name := range []string{"first", "second"} {
		rd := e.release(e.kd(cd, "apps"), ns, name)
		if rd.Action != result.ReleaseUnchanged || rd.Revision != 1 {
			t.Errorf("redeploy of %s: %s revision %d, want unchanged revision 1: %s", name, rd.Action, rd.Revision, rd.Message)
		}
	}

	// A dry run of a changed value says it would upgrade, and changes nothing.
	e.Write(map[string]string{"apps-" + e.ID + "/values.yaml": deploytest.ConfigMapYAML(ns, "hello-values", map[string]string{
		"values.yaml": "message: changed",
	})})
	o := e.Options()
	o.DryRun = true
	cd = e.DeployBuild(context.Background(), o, e.BuildHelm(false))
	if rd := e.release(e.kd(cd, "apps"), ns, "first"); rd.Action != result.ReleaseUpgraded {
		t.Errorf("dry run: first %s, want upgraded (would): %s", rd.Action, rd.Message)
	}
	if cm, _ := e.ConfigMap(ns, "first"); cm == nil || cm.Data["message"] != "from a ConfigMap" {
		t.Error("a dry run must not upgrade the release")
	}

	// Removing a HelmRelease from the repository uninstalls its release.
	e.Write(map[string]string{
		"apps-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("values.yaml", "first.yaml"),
		"apps-" + e.ID + "/second.yaml":        "",
	})
	cd = e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false))
	e.MustSucceed(cd)
	apps = e.kd(cd, "apps")
	if rd := e.release(apps, ns, "first"); rd.Action != result.ReleaseUpgraded || rd.Revision != 2 {
		t.Errorf("first: %s revision %d, want upgraded to revision 2: %s", rd.Action, rd.Revision, rd.Message)
	}
	if got := actions(apps)["HelmRelease/"+ns+"/second"]; got != result.ActionDeleted {
		t.Errorf("HelmRelease second: %q, want deleted (uninstalled)\n%s", got, deploytest.DeployText(cd))
	}
	if _, ok := e.ConfigMap(ns, "second"); ok {
		t.Error("the ConfigMap of the uninstalled release is still there")
	}
	secrets := &corev1.SecretList{}
	if err := kube.Client.List(context.Background(), secrets, client.InNamespace(ns), client.MatchingLabels{"name": "second", "owner": "helm"}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("Helm still stores release second: %d Secrets", len(secrets.Items))
	}
	if inv := inventoryEntries(t, e.Ref("apps")); strings.Contains(inv, "_second_") {
		t.Errorf("uninstalled HelmRelease still in the inventory: %s", inv)
	}
}

// TestHelmReleaseSecretValuesMasked: values a HelmRelease takes from a
// Secret never reach build or deploy output, even when the API server
// quotes them in an error.
func TestHelmReleaseSecretValuesMasked(t *testing.T) {
	e := newEnv(t, "helmmask")
	ns := e.ID
	const secret = "Sup3r_Secret_Value"
	files := map[string]string{
		e.Path + "/apps.yaml":                  e.Kustomization("apps", "apps-"+e.ID),
		"apps-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "secret.yaml", "release.yaml"),
		"apps-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		"apps-" + e.ID + "/secret.yaml": fmt.Sprintf(`apiVersion: v1
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
		"apps-" + e.ID + "/release.yaml": deploytest.HelmReleaseYAML(ns, "leaky",
			"valuesFrom:", "  - kind: Secret", "    name: hello-secret",
			"  - kind: Secret", "    name: hello-secret", "    valuesKey: objname", "    targetPath: name"),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)
	cb := e.BuildHelm(false)

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

	o := e.Options()
	o.Timeout = 20 * time.Second
	cd := e.DeployBuild(context.Background(), o, cb)
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
// release in the inventory.
func TestHelmReleaseRename(t *testing.T) {
	e := newEnv(t, "helmrename")
	ns := e.ID
	hrFile := "apps-" + e.ID + "/app.yaml"
	release := func(name string, extra ...string) {
		e.Write(map[string]string{hrFile: deploytest.HelmReleaseYAML(ns, "app", append([]string{"releaseName: " + name, "values:", "  name: shared"}, extra...)...)})
	}
	files := map[string]string{
		e.Path + "/infra.yaml":                  e.Kustomization("infra", "infra-"+e.ID),
		e.Path + "/apps.yaml":                   e.Kustomization("apps", "apps-"+e.ID, "dependsOn:", "  - name: "+e.Name("infra")),
		"infra-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml"),
		"infra-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		"apps-" + e.ID + "/kustomization.yaml":  deploytest.Kustomize("app.yaml"),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)
	release("old")
	e.MustSucceed(e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false)))
	owner := func() string {
		cm, ok := e.ConfigMap(ns, "shared")
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
	o := e.Options()
	o.DryRun = true
	cd := e.DeployBuild(context.Background(), o, e.BuildHelm(false))
	if got := deploytest.DeployText(cd); !strings.Contains(got, "would uninstall former Helm release "+ns+"/old") {
		t.Errorf("dry run does not announce the uninstall:\n%s", got)
	}
	if owner() != "old" || helmSecrets("old") == 0 {
		t.Fatal("a dry run changed the releases")
	}

	cd = e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false))
	e.MustSucceed(cd)
	if rd := e.release(e.kd(cd, "apps"), ns, "app"); rd.Action != result.ReleaseInstalled || rd.ReleaseName != "new" {
		t.Errorf("new release: %s %q: %s", rd.Action, rd.ReleaseName, rd.Message)
	}
	if got := owner(); got != "new" {
		t.Errorf("ConfigMap shared owned by %q, want new", got)
	}
	if n := helmSecrets("old"); n != 0 {
		t.Errorf("release old still stored (%d Secrets): orphaned", n)
	}
	if !strings.Contains(deploytest.DeployText(cd), "former release "+ns+"/old uninstalled") {
		t.Errorf("the uninstall of the former release is not reported:\n%s", deploytest.DeployText(cd))
	}
	if inv := inventoryEntries(t, e.Ref("apps")); !strings.Contains(inv, `"r":"new"`) || strings.Contains(inv, `"fr"`) {
		t.Errorf("inventory after the rename: %s", inv)
	}

	// A rename while the HelmRelease is suspended: nothing is uninstalled
	// or installed, and the inventory remembers release new as former.
	release("newer", "suspend: true")
	e.MustSucceed(e.DeployBuild(context.Background(), e.Options(), e.BuildHelm(false)))
	if inv := inventoryEntries(t, e.Ref("apps")); !strings.Contains(inv, `"fr":"`+ns+`/new"`) {
		t.Fatalf("inventory forgot the former release: %s", inv)
	}
	if owner() != "new" {
		t.Fatal("a suspended HelmRelease was reconciled")
	}
	// That uninstall --prune finds it through the former list is
	// internal/uninstall's TestUninstallFormerRelease.
}
