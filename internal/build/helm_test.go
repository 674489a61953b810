package build_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
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
func chartRepository(t *testing.T) *httptest.Server {
	t.Helper()
	c, err := loader.LoadDir(filepath.Join(fleetDir(t), "charts", "greeter"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := chartutil.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(c.Metadata, "charts/"+filepath.Base(p), "", hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	index, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/index.yaml":
			_, _ = w.Write(index)
		case "/charts/" + filepath.Base(p):
			_, _ = w.Write(data)
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
func buildHelmRepo(t *testing.T, dir, path string) *result.ClusterBuild {
	t.Helper()
	r, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := build.DefaultOptions(r)
	opts.Helm = helm.Options{CacheDir: t.TempDir()}
	b, err := build.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	return b.BuildClusterPath(ctx, path)
}
