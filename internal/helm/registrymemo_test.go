package helm_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/source"
)

// brokenRegistry answers every request with 503 after a delay, as a
// registry that is down behind a slow proxy would, counting requests.
func brokenRegistry(t *testing.T) (host string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		time.Sleep(50 * time.Millisecond)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), requests
}

// unreachableDocs declares n HelmReleases of one chart from a registry
// that fails, through a HelmRepository (semver: tags are listed) and an
// OCIRepository (a tag: resolved).
func unreachableDocs(n int) string {
	docs := `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: down, namespace: flux-system}
spec: {interval: 10m, type: oci, url: oci://OCI_REGISTRY/charts}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: down, namespace: apps}
spec: {interval: 10m, url: oci://OCI_REGISTRY/charts/podinfo, ref: {tag: 6.1.0}}
`
	for i := range n {
		name := "rel" + string(rune('a'+i))
		docs += helmRelease(name+"-repo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0"
      sourceRef: {kind: HelmRepository, name: down, namespace: flux-system}
`)
		docs += helmRelease(name+"-ref", "apps", `
  chartRef: {kind: OCIRepository, name: down}
`)
	}
	return docs
}

// TestUnreachableChartAskedOnce: within one Renderer (one run), the
// releases that ask an unreachable registry for the same chart get the
// first answer's error, each as its own release's error, without asking
// again.
func TestUnreachableChartAskedOnce(t *testing.T) {
	host, requests := brokenRegistry(t)
	render := func(n int) (int64, int) {
		requests.Store(0)
		r, err := helm.New(helm.Options{CacheDir: t.TempDir(), KubeVersion: "1.36.5", PlainHTTPHosts: []string{host}, Network: source.RunNetwork(nil, true)})
		if err != nil {
			t.Fatal(err)
		}
		out := renderAll(t, r, strings.ReplaceAll(unreachableDocs(n), "OCI_REGISTRY", host))
		failed := 0
		for name, rb := range out {
			if rb.Err == nil {
				t.Errorf("%s rendered from a registry that is down", name)
				continue
			}
			failed++
		}
		return requests.Load(), failed
	}
	one, failed := render(1)
	if one == 0 || failed != 2 {
		t.Fatalf("one release per source: %d requests, %d failures", one, failed)
	}
	many, failed := render(5)
	if failed != 10 {
		t.Errorf("%d of 10 releases failed", failed)
	}
	if many != one {
		t.Errorf("10 releases made %d requests, 2 made %d: failures are asked again", many, one)
	}
}
