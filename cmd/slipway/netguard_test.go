package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// secretAnswer is what a service on the runner's network might answer
// with; it must never reach slipway's output.
const secretAnswer = "SECRET-ANSWER-7f3a"

// answeringServer answers every request with an error whose body holds
// secretAnswer (in the registry error format, which ORAS would quote), and
// counts the connections it accepts.
func answeringServer(t *testing.T) (port string, conns *atomic.Int32) {
	t.Helper()
	conns = &atomic.Int32{}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		code := http.StatusInternalServerError
		if strings.Contains(r.URL.Path, "/private/") {
			code = http.StatusNotFound // go-git quotes the body of a 401/403/404
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"errors":[{"code":"DENIED","message":"` + secretAnswer + `"}]}`))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return strconv.Itoa(s.Listener.Addr().(*net.TCPAddr).Port), conns
}

// localSourcesRepo names one of each source kind on the answering server,
// by IP and by a name that resolves to loopback.
func localSourcesRepo(t *testing.T, port string) string {
	t.Helper()
	kustomization := func(name string) string {
		return "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./deploy\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: " + name + "\n"
	}
	gitSource := func(name, url string) string {
		return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: " + url + "\n  ref:\n    branch: main\n" + kustomization(name)
	}
	repo := t.TempDir()
	writeFiles(t, repo, map[string]string{
		"clusters/test/git.yaml":     gitSource("byip", "http://127.0.0.1:"+port+"/org/apps.git"),
		"clusters/test/gitname.yaml": gitSource("byname", "http://localhost:"+port+"/private/apps.git"),
		"clusters/test/charts.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: http://127.0.0.1:` + port + `/charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: whoami
  namespace: flux-system
spec:
  interval: 1h
  insecure: true
  url: oci://127.0.0.1:` + port + `/charts/whoami
  ref:
    semver: ">=1.0.0"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: status-page
  namespace: default
spec:
  interval: 1h
  chart:
    spec:
      chart: status-page
      version: 1.0.0
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: whoami
  namespace: default
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: whoami
    namespace: flux-system
`,
	})
	return repo
}

// TestValidateRefusesLocalSources: a GitRepository, HelmRepository and
// OCIRepository on loopback (by IP, and by a name resolving to it) are
// refused before any connection, each error naming the address class and
// the opt-in.
func TestValidateRefusesLocalSources(t *testing.T) {
	port, conns := answeringServer(t)
	repo := localSourcesRepo(t, port)
	r := runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code == 0 {
		t.Fatalf("validate passed:\n%s", r.out)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the server saw %d connections:\n%s", n, r.out)
	}
	for _, want := range []string{"GitRepository flux-system/byip", "GitRepository flux-system/byname", "HelmRelease/default/status-page", "HelmRelease/default/whoami"} {
		line := lineWith(r.out, want)
		if !strings.Contains(line, "a loopback address") || !strings.Contains(line, "--allow-local-sources") {
			t.Errorf("%s: not refused as loopback naming the opt-in:\n%s", want, line)
		}
	}
}

// TestValidateNeverPrintsAnswerBodies: with the opt-in the same sources are
// fetched; their error answers are reported by status and URL, never by
// what the body says.
func TestValidateNeverPrintsAnswerBodies(t *testing.T) {
	port, conns := answeringServer(t)
	repo := localSourcesRepo(t, port)
	r := runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir(), "--allow-local-sources")
	if n := conns.Load(); n == 0 {
		t.Fatalf("with --allow-local-sources nothing was fetched:\n%s", r.out)
	}
	if strings.Contains(r.out+r.err, secretAnswer) {
		t.Fatalf("the answer's body reached the output:\n%s%s", r.out, r.err)
	}
	for _, want := range []string{"HelmRelease/default/status-page", "HelmRelease/default/whoami", "GitRepository flux-system/byip"} {
		if line := lineWith(r.out, want); !strings.Contains(line, "500") {
			t.Errorf("%s: the status is not reported:\n%s", want, line)
		}
	}
	if line := lineWith(r.out, "GitRepository flux-system/byname"); !strings.Contains(line, "repository not found") {
		t.Errorf("byname: %s", line)
	}
}

// lineWith returns the first line of out containing s.
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return "(no line with " + s + ")"
}
