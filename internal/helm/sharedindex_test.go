package helm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/helm"
)

// TestSameURLRepositoriesKeepTheirOwnResult: two HelmRepository objects
// with one URL and username but different passwords each get their own
// answer, whichever asks first: the right password renders, the wrong one
// fails naming its own HelmRepository. (The index was once shared by URL
// and username, so the two swapped results from run to run.)
func TestSameURLRepositoriesKeepTheirOwnResult(t *testing.T) {
	e := newEnv(t)
	docs := e.expand(sources + `
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: private-stale, namespace: flux-system}
spec:
  interval: 10m
  url: HTTP_REPO/private
  secretRef: {name: private-stale-auth}
---
apiVersion: v1
kind: Secret
metadata: {name: private-stale-auth, namespace: flux-system}
stringData: {username: ci-reader, password: an-old-password}
` + helmRelease("good", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.0.0"
      sourceRef: {kind: HelmRepository, name: private, namespace: flux-system}
  install: {crds: Skip}
`) + helmRelease("stale", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.0.0"
      sourceRef: {kind: HelmRepository, name: private-stale, namespace: flux-system}
  install: {crds: Skip}
`))
	for i := 0; i < 8; i++ {
		out := renderAll(t, e.renderer(t, t.TempDir()), docs)
		if err := out["apps/good"].Err; err != nil {
			t.Fatalf("run %d: the release with the right password failed: %v", i, err)
		}
		err := out["apps/stale"].Err
		var se *helm.SourceError
		if !errors.As(err, &se) || se.Name != "private-stale" || se.StatusCode != 401 {
			t.Fatalf("run %d: the release with the wrong password: %v, want a 401 of HelmRepository private-stale", i, err)
		}
		if strings.Contains(err.Error(), "an-old-password") {
			t.Fatal("the password is in the error")
		}
	}
}
