package helm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/source"
)

// TestZeroNetworkRefusesLoopback: Options without a Network opt-in refuse
// the test servers, which listen on loopback, before any request, for the
// HTTP repository and the OCI registry alike.
func TestZeroNetworkRefusesLoopback(t *testing.T) {
	e := newEnv(t)
	docs := sources + helmRelease("http", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
`) + helmRelease("oci", "apps", `
  chartRef: {kind: OCIRepository, name: podinfo}
`)
	r := e.renderer(t, t.TempDir(), func(o *helm.Options) { o.Network = source.NetworkOptions{} })
	out := renderAll(t, r, e.expand(docs))
	if len(out) != 2 {
		t.Fatalf("rendered %d releases, want 2", len(out))
	}
	for name, rb := range out {
		var ae *source.AddressError
		if !errors.As(rb.Err, &ae) || ae.Class != source.ClassLoopback || !strings.Contains(rb.Err.Error(), "--allow-local-sources") {
			t.Errorf("%s: got %v, want a loopback AddressError", name, rb.Err)
		}
	}
	if e.http.indexHits.Load() != 0 || e.registry.blobPulls.Load() != 0 {
		t.Fatalf("the servers were reached: %d index requests, %d blob pulls", e.http.indexHits.Load(), e.registry.blobPulls.Load())
	}
}
