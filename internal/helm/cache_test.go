package helm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/helm"
)

// TestCache renders many releases of the same charts concurrently: each
// index is fetched once per Renderer and each chart downloaded once; a
// second Renderer over the same cache downloads no chart at all (it only
// refreshes the index and resolves OCI tags).
func TestCache(t *testing.T) {
	e := newEnv(t)
	cache := t.TempDir()
	var docs strings.Builder
	docs.WriteString(sources)
	for i := 0; i < 8; i++ {
		docs.WriteString(helmRelease(fmt.Sprintf("http-%d", i), "apps", `
  chart:
    spec:
      chart: podinfo
      version: "~6.1"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  install: {crds: Skip}
`))
		docs.WriteString(helmRelease(fmt.Sprintf("oci-%d", i), "apps", `
  chartRef: {kind: OCIRepository, name: podinfo}
  install: {crds: Skip}
`))
	}
	render := func(r *helm.Renderer) {
		t.Helper()
		for name, rb := range renderAll(t, r, e.expand(docs.String())) {
			if rb.Err != nil {
				t.Fatalf("%s: %v", name, rb.Err)
			}
			if len(rb.Objects) != 4 {
				t.Fatalf("%s: %d objects, want 4", name, len(rb.Objects))
			}
		}
	}

	render(e.renderer(t, cache))
	if got := e.http.indexHits.Load(); got != 1 {
		t.Errorf("first run fetched the index %d times, want 1", got)
	}
	if got := e.http.chartHits.Load(); got != 1 {
		t.Errorf("first run downloaded the chart %d times, want 1", got)
	}
	firstPulls := e.registry.blobPulls.Load()
	if firstPulls == 0 {
		t.Fatal("first run pulled nothing from the registry")
	}

	render(e.renderer(t, cache))
	if got := e.http.indexHits.Load(); got != 2 {
		t.Errorf("after the second run the index was fetched %d times, want 2 (once per run)", got)
	}
	if got := e.http.chartHits.Load(); got != 1 {
		t.Errorf("second run downloaded the chart again (%d downloads in all)", got)
	}
	if got := e.registry.blobPulls.Load(); got != firstPulls {
		t.Errorf("second run pulled %d more blobs from the registry, want 0", got-firstPulls)
	}
}

// TestCacheVerifiesDigest corrupts a cached chart: the index digest no
// longer matches, so the chart is downloaded again rather than trusted.
func TestCacheVerifiesDigest(t *testing.T) {
	e := newEnv(t)
	cache := t.TempDir()
	docs := e.expand(sources + helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
`))
	rb := renderAll(t, e.renderer(t, cache), docs)["apps/podinfo"]
	if rb.Err != nil {
		t.Fatal(rb.Err)
	}
	writeFiles(t, "/", map[string]string{rb.ChartArchive: "not a chart"})
	rb = renderAll(t, e.renderer(t, cache), docs)["apps/podinfo"]
	if rb.Err != nil {
		t.Fatalf("corrupt cache entry was not replaced: %v", rb.Err)
	}
	if got := e.http.chartHits.Load(); got != 2 {
		t.Errorf("chart downloaded %d times, want 2 (the corrupt copy replaced)", got)
	}
}

func TestShortenReleaseName(t *testing.T) {
	short := "podinfo"
	if got := helm.ShortenReleaseName(short); got != short {
		t.Errorf("short name changed: %s", got)
	}
	long := strings.Repeat("a", 30) + "-" + strings.Repeat("b", 30)
	got := helm.ShortenReleaseName(long)
	if len(got) != 53 || !strings.HasPrefix(got, long[:40]+"-") {
		t.Errorf("ShortenReleaseName(%q) = %q (%d chars)", long, got, len(got))
	}
	if helm.ShortenReleaseName(long) != got {
		t.Error("shortening is not stable")
	}
}
