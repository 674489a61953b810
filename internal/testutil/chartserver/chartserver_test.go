package chartserver_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	helmregistry "helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
)

// proxied is an HTTP client that sends everything through the server, as
// HTTP_PROXY makes slipway do.
func proxied(t *testing.T, s *chartserver.Server) *http.Client {
	t.Helper()
	u, err := url.Parse(s.ProxyURL())
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}}
}

func start(t *testing.T) *chartserver.Server {
	t.Helper()
	s, err := chartserver.Start(chartserver.Example(filepath.Join("..", "..", "..", "testdata", "charts")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func get(t *testing.T, c *http.Client, u string) (int, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestHTTPRepositoryThroughProxy(t *testing.T) {
	s := start(t)
	c := proxied(t, s)
	code, body := get(t, c, s.HTTPRepositoryURL()+"/index.yaml")
	if code != http.StatusOK {
		t.Fatalf("index.yaml: %d %s", code, body)
	}
	var idx repo.IndexFile
	if err := yaml.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, v := range idx.Entries["status-page"] {
		versions = append(versions, v.Version)
	}
	if got := strings.Join(versions, ","); got != "1.2.0,1.1.0,1.0.0" {
		t.Fatalf("status-page versions = %s", got)
	}
	// The archive the index points at is there and matches its digest.
	entry := idx.Entries["status-page"][0]
	code, tgz := get(t, c, s.HTTPRepositoryURL()+"/"+entry.URLs[0])
	if code != http.StatusOK {
		t.Fatalf("chart: %d", code)
	}
	p, err := chartserver.Package(filepath.Join("..", "..", "..", "testdata", "charts", "status-page"), "1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tgz, p.Data) || entry.Digest != p.Digest() {
		t.Fatal("served archive differs from a fresh package of the same chart (packaging is not reproducible)")
	}
	// Nothing else is reachable through it.
	if code, _ := get(t, c, "http://example.com/"); code != http.StatusBadGateway {
		t.Fatalf("foreign host: status %d, want 502", code)
	}
	if code, _ := get(t, c, s.HTTPRepositoryURL()+"/charts/missing-1.0.0.tgz"); code != http.StatusNotFound {
		t.Fatalf("missing chart: status %d, want 404", code)
	}
}

func TestRegistryThroughProxy(t *testing.T) {
	s := start(t)
	c, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(),
		helmregistry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json")),
		helmregistry.ClientOptHTTPClient(proxied(t, s)))
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimPrefix(s.OCIRepositoryURL(), "oci://") + "/whoami"
	tags, err := c.Tags(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tags, ","); got != "1.0.1,1.0.0" {
		t.Fatalf("tags = %s", got)
	}
	res, err := c.Pull(ref + ":1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if res.Chart.Meta.Name != "whoami" || res.Chart.Meta.Version != "1.0.0" {
		t.Fatalf("pulled %+v", res.Chart.Meta)
	}
	if s.RegistryHits.Load() == 0 {
		t.Fatal("the registry was not reached through the proxy")
	}
}
