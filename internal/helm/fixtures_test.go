package helm_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	helmregistry "helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
	"github.com/slipwayhq/slipway/internal/testutil/gitserver"
)

// Credentials of the private chart repository; the tests assert they never
// appear in an error.
const (
	privateUser     = "ci-reader"
	privatePassword = "s3cret-repo-pass"
)

var fixedTime = chartserver.FixedTime

// packaged is one chart version packaged with the Helm SDK.
type packaged = chartserver.Packaged

// packageChart packages testdata/charts/<name> as version with the Helm
// SDK, with fixed file times so the bytes (and every digest) are the same on
// every run.
func packageChart(t *testing.T, name, version string) packaged {
	t.Helper()
	p, err := chartserver.Package(filepath.Join("testdata", "charts", name), version)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// chartServer is an HTTP Helm repository: /index.yaml and /charts/*.tgz,
// and the same under /private/ behind basic auth. It counts requests.
type chartServer struct {
	*httptest.Server
	indexHits atomic.Int64
	chartHits atomic.Int64
}

func newChartServer(t *testing.T, charts []packaged) *chartServer {
	t.Helper()
	idx := repo.NewIndexFile()
	files := map[string][]byte{}
	for _, p := range charts {
		if err := idx.MustAdd(p.Chart.Metadata, "charts/"+p.File, "", p.Digest()); err != nil {
			t.Fatal(err)
		}
		files["/charts/"+p.File] = p.Data
	}
	idx.SortEntries()
	index, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	s := &chartServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if rest, ok := strings.CutPrefix(p, "/private"); ok {
			if u, pw, ok := r.BasicAuth(); !ok || u != privateUser || pw != privatePassword {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			p = rest
		}
		switch {
		case p == "/index.yaml":
			s.indexHits.Add(1)
			_, _ = w.Write(index)
		case files[p] != nil:
			s.chartHits.Add(1)
			_, _ = w.Write(files[p])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// registryServer is an in-process OCI registry counting blob downloads.
type registryServer struct {
	*httptest.Server
	host      string
	blobPulls atomic.Int64
}

func newRegistry(t *testing.T) *registryServer {
	t.Helper()
	h := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	s := &registryServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			s.blobPulls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	s.host = strings.TrimPrefix(s.URL, "http://")
	return s
}

// push pushes a packaged chart as repo/<name>:<version> with Helm's client.
func (s *registryServer) push(t *testing.T, repoPath string, p packaged) {
	t.Helper()
	c, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(),
		helmregistry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json")))
	if err != nil {
		t.Fatal(err)
	}
	ref := s.host + "/" + repoPath + "/" + p.Chart.Name() + ":" + strings.ReplaceAll(p.Chart.Metadata.Version, "+", "_")
	if _, err := c.Push(p.Data, ref, helmregistry.PushOptCreationTime(fixedTime.Format(time.RFC3339))); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// newGitChartRepo creates a bare Git repository holding the podinfo chart
// under charts/podinfo and a values file under env/.
func newGitChartRepo(t *testing.T) string {
	t.Helper()
	files := map[string]string{"env/prod-values.yaml": "replicaCount: 4\nmessage: from git env/prod-values.yaml\n"}
	chartDir := filepath.Join("testdata", "charts", "podinfo")
	err := filepath.WalkDir(chartDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(chartDir, p)
		files["charts/podinfo/"+filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Served over smart HTTP: slipway fetches no local paths.
	srv := gitserver.New(t)
	srv.Seed("charts.git", files)
	return srv.URL("charts.git")
}

// newThisRepo creates a configuration repository on disk, known by the
// remote URL https://github.com/example/fleet, holding the demo chart.
func newThisRepo(t *testing.T) *source.Repository {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "charts", "demo"), filepath.Join(dir, "charts", "demo"))
	writeFiles(t, dir, map[string]string{
		".git/config":             "[remote \"origin\"]\n\turl = https://github.com/example/fleet.git\n",
		"values/demo.yaml":        "greeting:\n  text: from this repository\n",
		"values/broken.yaml":      "greeting:\n  text: fine\n\tbad: 1\n",
		"charts/demo/values.yaml": "greeting:\n  text: \"\"\n",
	})
	r, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// env is everything the tests render against: an HTTP chart repository,
// an OCI registry, an external Git repository and this repository.
type env struct {
	http     *chartServer
	registry *registryServer
	gitURL   string
	repo     *source.Repository
	charts   map[string]packaged
}

// newEnv starts the servers and publishes podinfo 6.0.0, 6.1.0 and
// 7.0.0-rc.1 and demo 1.0.0 to both the HTTP repository and the registry.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{charts: map[string]packaged{}}
	for _, v := range []string{"6.0.0", "6.1.0", "7.0.0-rc.1"} {
		e.charts["podinfo-"+v] = packageChart(t, "podinfo", v)
	}
	e.charts["demo-1.0.0"] = packageChart(t, "demo", "1.0.0")
	var all []packaged
	for _, k := range sortedKeys(e.charts) {
		all = append(all, e.charts[k])
	}
	e.http = newChartServer(t, all)
	e.registry = newRegistry(t)
	for _, p := range all {
		e.registry.push(t, "charts", p)
	}
	e.gitURL = newGitChartRepo(t)
	e.repo = newThisRepo(t)
	return e
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// expand replaces the placeholders of a cluster path document with the
// addresses of the servers.
func (e *env) expand(docs string) string {
	return strings.NewReplacer(
		"HTTP_REPO", e.http.URL,
		"OCI_REGISTRY", e.registry.host,
		"GIT_REPO", e.gitURL,
	).Replace(docs)
}

// redact does the reverse of expand for golden files.
func (e *env) redact(s string) string {
	return strings.NewReplacer(
		e.http.URL, "HTTP_REPO",
		e.registry.host, "OCI_REGISTRY",
		e.gitURL, "GIT_REPO",
	).Replace(s)
}

func (e *env) renderer(t *testing.T, cacheDir string, mutate ...func(*helm.Options)) *helm.Renderer {
	t.Helper()
	opts := helm.Options{
		CacheDir:       cacheDir,
		KubeVersion:    "1.36.5",
		Repo:           e.repo,
		Git:            &source.GitFetcher{CacheDir: filepath.Join(cacheDir, "git"), Network: source.RunNetwork(nil, true)},
		HTTPClient:     &http.Client{Timeout: 30 * time.Second},
		Network:        source.RunNetwork(nil, true),
		PlainHTTPHosts: []string{e.registry.host},
	}
	for _, m := range mutate {
		m(&opts)
	}
	r, err := helm.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clusterPath is a parsed set of objects standing for a cluster path's
// build output.
type clusterPath struct {
	objects []*unstructured.Unstructured
}

func parseObjects(t *testing.T, docs string) *clusterPath {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(docs)), 4096)
	cp := &clusterPath{}
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err == io.EOF {
				return cp
			}
			t.Fatalf("test documents: %v", err)
		}
		if len(m) > 0 {
			cp.objects = append(cp.objects, &unstructured.Unstructured{Object: m})
		}
	}
}

func (cp *clusterPath) lookup(kind, namespace, name string) (*unstructured.Unstructured, bool) {
	for _, o := range cp.objects {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o, true
		}
	}
	return nil, false
}

// renderAll renders every HelmRelease of docs, concurrently, as the build
// will; keyed by namespace/name.
func renderAll(t *testing.T, r *helm.Renderer, docs string) map[string]*result.ReleaseBuild {
	t.Helper()
	cp := parseObjects(t, docs)
	out := map[string]*result.ReleaseBuild{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, o := range cp.objects {
		if o.GetKind() != "HelmRelease" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rb := r.Render(context.Background(), o, result.Origin{File: "clusters/test/releases.yaml", Line: i + 1}, cp.lookup)
			mu.Lock()
			out[o.GetNamespace()+"/"+o.GetName()] = rb
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
