package helm_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/slipwayhq/slipway/internal/helm"
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

// TestRegistryRedirectDropsCredentials: a registry that asks for the
// secretRef's credentials and redirects blob downloads to another origin
// (as registries redirect to blob storage) must not pass them on.
func TestRegistryRedirectDropsCredentials(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var atOther, atFront []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atOther = append(atOther, r.Header.Get("Authorization"))
		mu.Unlock()
		e.registry.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(other.Close)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atFront = append(atFront, r.Header.Get("Authorization"))
		mu.Unlock()
		if u, p, ok := r.BasicAuth(); !ok || u != privateUser || p != privatePassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		e.registry.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	frontHost := strings.TrimPrefix(front.URL, "http://")

	docs := `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: demo
  namespace: flux-system
spec:
  url: oci://` + frontHost + `/charts/demo
  ref: {tag: 1.0.0}
  secretRef:
    name: registry-auth
---
apiVersion: v1
kind: Secret
metadata:
  name: registry-auth
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
  chartRef:
    kind: OCIRepository
    name: demo
    namespace: flux-system
  values:
    greeting:
      text: hello
`
	r := e.renderer(t, t.TempDir(), func(o *helm.Options) { o.PlainHTTPHosts = append(o.PlainHTTPHosts, frontHost) })
	rb := renderAll(t, r, docs)["default/demo"]
	if rb == nil || rb.Err != nil {
		t.Fatalf("render: %+v", rb)
	}
	mu.Lock()
	defer mu.Unlock()
	authed := false
	for _, h := range atFront {
		authed = authed || h != ""
	}
	if !authed {
		t.Fatalf("the registry never got the credentials: %q", atFront)
	}
	if len(atOther) == 0 {
		t.Fatal("no blob was redirected: the test proves nothing")
	}
	for _, h := range atOther {
		if h != "" {
			t.Errorf("the redirect target received Authorization %q", h)
		}
	}
}
