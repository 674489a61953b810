package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
	"github.com/slipwayhq/slipway/internal/testutil/gitserver"
)

// authRecorder serves h and keeps every request's Authorization header.
type authRecorder struct {
	h    http.Handler
	mu   sync.Mutex
	seen []string
}

func (a *authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Header.Get("Authorization"))
	a.mu.Unlock()
	a.h.ServeHTTP(w, r)
}

func (a *authRecorder) headers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

func baseOf(s *gitserver.Server) string { return strings.TrimSuffix(s.URL("x"), "/x") }

// TestBinaryGitHubTokenStaysOnGitHubHost runs the built binary as a
// workflow step would, GITHUB_TOKEN set, on a repository whose sources
// live on four https hosts on loopback: the run's GitHub host
// (GITHUB_SERVER_URL), a Git host the repository names without a
// secretRef, a Git host with a secretRef (its Secret given with
// --external-objects), and a Helm repository + OCI registry. Only the
// GitHub host may see the token; the secretRef's host sees its own
// credentials; the others see no Authorization at all.
func TestBinaryGitHubTokenStaysOnGitHubHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const token = "ghs_CLITOKEN0123456789abcdef"
	tokenAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	deploy := func(name string) map[string]string {
		return map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: default\n"}
	}
	github, other, corp := gitserver.NewTLS(t), gitserver.NewTLS(t), gitserver.NewTLS(t)
	github.Seed("org/apps.git", deploy("from-github"))
	other.Seed("evil/apps.git", deploy("from-other"))
	corp.Seed("corp/apps.git", deploy("from-corp"))
	corp.SetToken("corp-password")

	charts, err := chartserver.Start(chartserver.Example(filepath.Join(testutil.RepoRoot(t), "testdata", "charts")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = charts.Close() })
	chartRec := &authRecorder{h: charts}
	chartHost := httptest.NewTLSServer(chartRec)
	t.Cleanup(chartHost.Close)
	chartHostPort := strings.TrimPrefix(chartHost.URL, "https://")

	// Every loopback server above uses httptest's certificate: trusting it
	// once (SSL_CERT_FILE) trusts them all, as a runner trusts real hosts.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, github.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}

	gitSource := func(name, url, secret string) string {
		s := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: " + url + "\n  ref:\n    branch: main\n"
		if secret != "" {
			s += "  secretRef:\n    name: " + secret + "\n"
		}
		return s + "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./deploy\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: " + name + "\n"
	}
	repo := t.TempDir()
	writeFiles(t, repo, map[string]string{
		"clusters/test/github.yaml": gitSource("github", github.URL("org/apps.git"), ""),
		"clusters/test/other.yaml":  gitSource("other", other.URL("evil/apps.git"), ""),
		"clusters/test/corp.yaml":   gitSource("corp", corp.URL("corp/apps.git"), "corp-git"),
		"clusters/test/charts.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: ` + chartHost.URL + `
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: whoami
  namespace: flux-system
spec:
  interval: 1h
  url: oci://` + chartHostPort + `/charts/whoami
  ref:
    tag: 1.0.0
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
	external := filepath.Join(t.TempDir(), "external.yaml")
	if err := os.WriteFile(external, []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: corp-git\n  namespace: flux-system\nstringData:\n  username: git\n  password: corp-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "slipway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building slipway: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "build", "--repo", repo, "--path", "clusters/test", "--external-objects", external, "--cache-dir", t.TempDir(), "--allow-local-sources")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"GITHUB_TOKEN=" + token, "GITHUB_SERVER_URL=" + baseOf(github),
		"SSL_CERT_FILE=" + caFile,
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("slipway build: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"name: from-github", "name: from-other", "name: from-corp", "app.kubernetes.io/name: status-page", "app.kubernetes.io/name: whoami"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the build lacks %q: a source was not fetched or a chart not rendered", want)
		}
	}
	for _, bad := range []string{"# Error:", "not rendered"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("the build reports %q:\n%s", bad, out.String())
		}
	}
	if strings.Contains(out.String()+errb.String(), token) {
		t.Error("the token was printed")
	}

	if got := github.Authorizations(); len(got) == 0 || got[0] != tokenAuth {
		t.Errorf("the run's GitHub host must get the token, got %q", got)
	}
	for host, seen := range map[string][]string{"Git host without secretRef": other.Authorizations(), "Helm repository and OCI registry": chartRec.headers()} {
		if len(seen) == 0 {
			t.Errorf("%s: never asked, the test proves nothing", host)
		}
		for _, h := range seen {
			if h != "" {
				t.Errorf("%s received Authorization %q", host, h)
			}
		}
	}
	corpAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("git:corp-password"))
	for _, h := range corp.Authorizations() {
		if h != corpAuth {
			t.Errorf("the secretRef's host received %q, want its own credentials only", h)
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
