package helm_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestRepositoryRedirectDropsCredentials: a Helm repository that takes the
// secretRef's credentials and redirects the index and the chart to
// another origin — the same loopback address on another port, which
// net/http alone treats as the same host and would send Authorization
// to — must not pass the credentials on.
func TestRepositoryRedirectDropsCredentials(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var atOther, atFront []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atOther = append(atOther, r.Header.Get("Authorization"))
		mu.Unlock()
		e.http.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(other.Close)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atFront = append(atFront, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(front.Close)

	docs := `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: front
  namespace: flux-system
spec:
  url: ` + front.URL + `
  secretRef:
    name: front-auth
---
apiVersion: v1
kind: Secret
metadata:
  name: front-auth
  namespace: flux-system
stringData:
  username: ` + privateUser + `
  password: ` + privatePassword + `
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
  namespace: default
spec:
  chart:
    spec:
      chart: demo
      version: 1.0.0
      sourceRef:
        kind: HelmRepository
        name: front
        namespace: flux-system
  values:
    greeting:
      text: hello
`
	rb := renderAll(t, e.renderer(t, t.TempDir()), docs)["default/demo"]
	if rb == nil || rb.Err != nil {
		t.Fatalf("render: %+v", rb)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(atFront) < 2 || atFront[0] == "" {
		t.Fatalf("the repository must be asked for the index and the chart with credentials, got %q", atFront)
	}
	if len(atOther) < 2 {
		t.Fatalf("the redirect target was asked %d times, want the index and the chart", len(atOther))
	}
	for _, h := range atOther {
		if h != "" {
			t.Errorf("the redirect target received Authorization %q", h)
		}
	}
}
