package build_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
)

func release(t *testing.T, kb *result.KustomizationBuild, ns, name string) *result.ReleaseBuild {
	t.Helper()
	for _, rb := range kb.Releases {
		if rb.Ref == (result.KustomizationRef{Namespace: ns, Name: name}) {
			return rb
		}
	}
	t.Fatalf("no rendered HelmRelease %s/%s in Kustomization %s (%d releases)", ns, name, kb.Ref, len(kb.Releases))
	return nil
}

func renderedObject(t *testing.T, rb *result.ReleaseBuild, kind, name string) *result.Object {
	t.Helper()
	for i := range rb.Objects {
		if o := &rb.Objects[i]; o.Object.GetKind() == kind && o.Object.GetName() == name {
			return o
		}
	}
	t.Fatalf("HelmRelease %s rendered no %s %s", rb.Ref, kind, name)
	return nil
}

// TestFleetHelmRelease checks the example fleet's HelmRelease renders the
// repository's chart with each cluster's values, substituted variables
// included, and points back at the HelmRelease's file and line.
func TestFleetHelmRelease(t *testing.T) {
	for cluster, replicas := range map[string]int64{"staging": 1, "production": 2} {
		t.Run(cluster, func(t *testing.T) {
			cb := buildOne(t, fleetDir(t), "clusters/"+cluster, buildConfig{ageKeyFile: ageKey(t)})
			apps := mustKustomization(t, cb, "flux-system", "apps")
			rb := release(t, apps, "podinfo", "greeter")
			if rb.Err != nil {
				t.Fatalf("not rendered: %v", rb.Err)
			}
			if rb.Chart.Name != "greeter" || rb.Chart.Version != "0.1.0" || rb.ReleaseName != "greeter" || rb.StorageNamespace != "podinfo" {
				t.Errorf("release %s of chart %s@%s in %s", rb.ReleaseName, rb.Chart.Name, rb.Chart.Version, rb.StorageNamespace)
			}
			if rb.Origin != (result.Origin{File: "apps/" + cluster + "/greeter.yaml", Line: 14}) {
				t.Errorf("origin = %v", rb.Origin)
			}
			dep := renderedObject(t, rb, "Deployment", "greeter")
			if got := dep.Object.Object["spec"].(map[string]any)["replicas"]; fmt.Sprint(got) != fmt.Sprint(replicas) {
				t.Errorf("replicas = %#v, want %d (spec.values)", got, replicas)
			}
			if dep.Origin != rb.Origin {
				t.Errorf("rendered objects must point at the HelmRelease, got %v", dep.Origin)
			}
			msg := renderedObject(t, rb, "ConfigMap", "greeter-message")
			if got := str(t, msg.Object, "data", "message"); got != "Hello from "+cluster+" ("+cluster+"), via Helm" {
				t.Errorf("valuesFrom (with substituted variables) not applied: message = %q", got)
			}
		})
	}
}

// TestFleetRemoteCharts checks the example fleet's charts from outside the
// repository: status-page from the HTTP Helm repository (each cluster's
// semver range picks its version out of 1.0.0, 1.1.0, 1.2.0) and whoami
// from the OCI registry through an OCIRepository (the newest 1.0.x, with
// helm-controller's digest suffix), both fetched through HTTP_PROXY from the
// chart server TestMain started.
func TestFleetRemoteCharts(t *testing.T) {
	for cluster, want := range map[string]struct {
		statusPage string
		replicas   int64
	}{"staging": {"1.2.0", 1}, "production": {"1.1.0", 2}} {
		t.Run(cluster, func(t *testing.T) {
			cb := buildOne(t, fleetDir(t), "clusters/"+cluster, buildConfig{ageKeyFile: ageKey(t)})
			apps := mustKustomization(t, cb, "flux-system", "apps")
			sp := release(t, apps, "podinfo", "status-page")
			if sp.Err != nil {
				t.Fatalf("status-page not rendered: %v", sp.Err)
			}
			if sp.Chart.Version != want.statusPage || sp.Chart.Source != "http://charts.example.test/status-page" {
				t.Errorf("status-page: chart %s@%s from %s, want %s from http://charts.example.test/status-page", sp.Chart.Name, sp.Chart.Version, sp.Chart.Source, want.statusPage)
			}
			page := renderedObject(t, sp, "ConfigMap", "status-page-content")
			if got := str(t, page.Object, "data", "index.html"); !strings.Contains(got, "<h1>"+cluster+" status</h1>") {
				t.Errorf("status-page values (with substituted variables) not applied:\n%s", got)
			}
			wh := release(t, apps, "podinfo", "whoami")
			if wh.Err != nil {
				t.Fatalf("whoami not rendered: %v", wh.Err)
			}
			if !strings.HasPrefix(wh.Chart.Version, "1.0.1+") || !strings.HasPrefix(wh.Chart.Source, "oci://registry.example.test/charts/whoami") {
				t.Errorf("whoami: chart %s@%s from %s, want 1.0.1+<digest> from the registry", wh.Chart.Name, wh.Chart.Version, wh.Chart.Source)
			}
			dep := renderedObject(t, wh, "Deployment", "whoami")
			if got := dep.Object.Object["spec"].(map[string]any)["replicas"]; fmt.Sprint(got) != fmt.Sprint(want.replicas) {
				t.Errorf("whoami replicas = %#v, want %d", got, want.replicas)
			}
		})
	}
}

// TestHelmReleaseInputsFromAnotherKustomization: the HelmRelease's chart
// source (a HelmRepository) and its valuesFrom ConfigMap come from a
// Kustomization discovered one wave later than the HelmRelease's own.
func TestHelmReleaseInputsFromAnotherKustomization(t *testing.T) {
	srv := chartRepository(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"clusters/dev/apps.yaml":  fluxKustomization("apps", "./apps"),
		"clusters/dev/infra.yaml": fluxKustomization("infra", "./infra"),
		// infra only declares another Kustomization: sources is built in
		// the wave after apps.
		"infra/sources.yaml": fluxKustomization("sources", "./sources"),
		"sources/repo.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: demo
spec:
  interval: 1h
  url: ` + srv.URL + `
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: greeter-values
  namespace: demo
data:
  values.yaml: |
    message: values from another Kustomization
---
apiVersion: v1
kind: Secret
metadata:
  name: greeter-secret
  namespace: demo
stringData:
  values.yaml: |
    image:
      tag: t0p-s3cret-tag
`,
		"apps/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: greeter
  namespace: demo
spec:
  interval: 10m
  chart:
    spec:
      chart: greeter
      version: 0.1.x
      sourceRef:
        kind: HelmRepository
        name: charts
  valuesFrom:
    - kind: ConfigMap
      name: greeter-values
    - kind: Secret
      name: greeter-secret
`,
	})
	writeTree(t, dir, gotkSync("dev"))
	cb := buildHelmRepo(t, dir, "clusters/dev")
	if len(errorFindings(cb)) > 0 {
		t.Fatalf("unexpected errors:\n%s", findingsText(cb))
	}
	rb := release(t, mustKustomization(t, cb, "flux-system", "apps"), "demo", "greeter")
	if rb.Err != nil {
		t.Fatalf("not rendered: %v", rb.Err)
	}
	if !strings.HasPrefix(rb.Chart.Source, srv.URL) {
		t.Errorf("chart source = %q, want the HelmRepository at %s", rb.Chart.Source, srv.URL)
	}
	msg := renderedObject(t, rb, "ConfigMap", "greeter-message")
	if got := str(t, msg.Object, "data", "message"); got != "values from another Kustomization" {
		t.Errorf("message = %q", got)
	}
	// The image tag came from a Secret: it is rendered, and masked in output.
	dep := renderedObject(t, rb, "Deployment", "greeter")
	if data, _ := yaml.Marshal(dep.Object.Object); !strings.Contains(string(data), "t0p-s3cret-tag") {
		t.Fatalf("premise: the Secret's value is rendered")
	}
	var out bytes.Buffer
	if err := report.BuildYAML(&out, []*result.ClusterBuild{cb}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# Source: HelmRelease demo/greeter (apps/release.yaml:1), chart greeter@0.1.0") {
		t.Errorf("build output lacks the rendered release:\n%s", out.String())
	}
	out.Reset()
	if err := report.BuildJSON(&out, []*result.ClusterBuild{cb}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"releaseName": "greeter"`) {
		t.Errorf("JSON output lacks the release:\n%s", out.String())
	}
	checkNoLeak(t, []*result.ClusterBuild{cb}, []string{"t0p-s3cret-tag"})
}

// TestHelmReleaseRenderErrorIsFinding: a chart that is not in the
// repository is an error finding at the HelmRelease's file and line.
func TestHelmReleaseRenderErrorIsFinding(t *testing.T) {
	srv := chartRepository(t)
	dir := t.TempDir()
	writeTree(t, dir, gotkSync("dev"))
	writeTree(t, dir, map[string]string{
		"clusters/dev/apps.yaml": fluxKustomization("apps", "./apps"),
		"apps/release.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: demo
spec:
  url: ` + srv.URL + `
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: missing
  namespace: demo
spec:
  suspend: true
  chart:
    spec:
      chart: greeter
      version: 9.x
      sourceRef:
        kind: HelmRepository
        name: charts
`,
	})
	cb := buildHelmRepo(t, dir, "clusters/dev")
	errs := errorFindings(cb)
	if len(errs) != 1 {
		t.Fatalf("want one error finding, got:\n%s", findingsText(cb))
	}
	f := errs[0]
	if f.Check != "helm" || f.Origin != (result.Origin{File: "apps/release.yaml", Line: 9}) || f.Object == nil || f.Object.Kind != "HelmRelease" {
		t.Errorf("finding = %s", report.FindingLine(f))
	}
	if !strings.Contains(f.Message, `chart "greeter" version "9.x" not found`) || !strings.Contains(f.Message, "0.1.0") {
		t.Errorf("message should say what is missing and what exists: %s", f.Message)
	}
	rb := release(t, mustKustomization(t, cb, "flux-system", "apps"), "demo", "missing")
	if !rb.Suspended {
		t.Error("a suspended HelmRelease is rendered and marked suspended")
	}
}

// chartRepository serves the fleet's greeter chart as an HTTP Helm
// repository on loopback.
func chartRepository(t *testing.T) *httptest.Server { return privateChartRepository(t, "", "") }

// privateChartRepository is chartRepository behind basic auth when user is
// not empty.
func privateChartRepository(t *testing.T, user, password string) *httptest.Server {
	t.Helper()
	p, err := chartserver.Package(filepath.Join(fleetDir(t), "charts", "greeter"), "")
	if err != nil {
		t.Fatal(err)
	}
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(p.Chart.Metadata, "charts/"+p.File, "", p.Digest()); err != nil {
		t.Fatal(err)
	}
	index, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, _ := r.BasicAuth(); user != "" && (u != user || pw != password) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/index.yaml":
			_, _ = w.Write(index)
		case "/charts/" + p.File:
			_, _ = w.Write(p.Data)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fluxKustomization(name, path string) string {
	return `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ` + name + `
  namespace: flux-system
spec:
  interval: 10m
  path: ` + path + `
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`
}

func gotkSync(cluster string) map[string]string {
	return map[string]string{"clusters/" + cluster + "/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://example.invalid/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/` + cluster + `
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`}
}

// buildHelmRepo builds a cluster path with its own chart cache.
func buildHelmRepo(t *testing.T, dir, path string, external ...helm.Lookup) *result.ClusterBuild {
	t.Helper()
	r, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := build.DefaultOptions(r)
	opts.Helm = helm.Options{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}
	opts.External = build.ChainLookups(external...)
	b, err := build.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	return b.BuildClusterPath(ctx, path)
}

// TestHelmReleaseExternalObjects: the chart source's secretRef and a
// valuesFrom Secret are not in the repository (created in the cluster out
// of band). Without them the release fails to render, saying which is
// missing; with them from an external objects file (SOPS-encrypted, as a
// CI job would keep it) it renders, and no value of theirs is printed.
func TestHelmReleaseExternalObjects(t *testing.T) {
	srv := privateChartRepository(t, "ci-reader", "repo-pass-9911")
	dir := t.TempDir()
	writeTree(t, dir, gotkSync("dev"))
	writeTree(t, dir, map[string]string{
		"clusters/dev/apps.yaml": fluxKustomization("apps", "./apps"),
		"apps/release.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: private
  namespace: demo
spec:
  interval: 1h
  url: ` + srv.URL + `
  secretRef:
    name: private-auth
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: greeter
  namespace: demo
spec:
  interval: 10m
  chart:
    spec:
      chart: greeter
      sourceRef:
        kind: HelmRepository
        name: private
  valuesFrom:
    - kind: Secret
      name: greeter-secret
`,
	})
	cb := buildHelmRepo(t, dir, "clusters/dev")
	rb := release(t, mustKustomization(t, cb, "flux-system", "apps"), "demo", "greeter")
	if rb.Err == nil || !strings.Contains(rb.Err.Error(), "greeter-secret not found") {
		t.Fatalf("without external objects: err = %v, want the missing Secret named", rb.Err)
	}

	ext := `apiVersion: v1
kind: Secret
metadata: {name: private-auth, namespace: demo}
stringData: {username: ci-reader, password: repo-pass-9911}
---
apiVersion: v1
kind: Secret
metadata: {name: greeter-secret, namespace: demo}
stringData:
  values.yaml: |
    message: external-s3cret-message
`
	file := filepath.Join(t.TempDir(), "external.yaml")
	if err := os.WriteFile(file, []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := build.LoadExternal([]string{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cb = buildHelmRepo(t, dir, "clusters/dev", loaded.Lookup())
	if len(errorFindings(cb)) > 0 {
		t.Fatalf("with external objects:\n%s", findingsText(cb))
	}
	rb = release(t, mustKustomization(t, cb, "flux-system", "apps"), "demo", "greeter")
	msg := renderedObject(t, rb, "ConfigMap", "greeter-message")
	if got := str(t, msg.Object, "data", "message"); got != "external-s3cret-message" {
		t.Errorf("message = %q, want the external Secret's value", got)
	}
	checkNoLeak(t, []*result.ClusterBuild{cb}, []string{"external-s3cret-message", "repo-pass-9911"})
}

// TestLoadExternalErrors: a wrong external objects file is refused whole,
// at the file and line of the offending document.
func TestLoadExternalErrors(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"other kind":        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: x}\n", ":5: Deployment web: only v1 ConfigMaps and Secrets"},
		"no namespace":      {"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n", ":1: Secret needs metadata.name and metadata.namespace"},
		"twice":             {"apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: x}\n", ":5: Secret x/a is given twice"},
		"bad yaml":          {"apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: x}\ndata:\n  k: v\n  k: w\n", ":6: duplicate key"},
		"encrypted, no key": {"apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: x}\ndata:\n  k: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n  mac: x\n  version: 3.9.0\n", ":1: decrypting Secret x/a: SOPS-encrypted and no decryption key"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ext.yaml")
			if err := os.WriteFile(file, []byte(tc.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := build.LoadExternal([]string{file}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), file+tc.want) {
				t.Fatalf("err = %v, want %q", err, file+tc.want)
			}
		})
	}
}
