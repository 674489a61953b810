package build_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// ociFixture serves the oci-source case: the artifact pushed as 1.0.0,
// and a copy of the repository naming the registry.
func ociFixture(t *testing.T) (reg *testutil.Registry, repo, manifest string) {
	t.Helper()
	base := filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", "oci-source")
	reg = testutil.StartRegistry(t)
	manifest = reg.PushArtifact(t, "manifests/apps", "1.0.0", filepath.Join(base, "artifact"))
	repo = filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(base, "repo"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repo, "clusters", "dev", "apps.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(data), "OCI_REGISTRY", reg.Host)), 0o644); err != nil {
		t.Fatal(err)
	}
	return reg, repo, manifest
}

// TestOCIRepositorySource: a Kustomization whose source is an
// OCIRepository builds the artifact's files (semver among the tags, the
// layer the layerSelector names), pulled once per layer digest.
func TestOCIRepositorySource(t *testing.T) {
	reg, repo, manifest := ociFixture(t)
	fetcher := &source.OCIFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}
	cb := buildOneOCI(t, repo, fetcher)
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	kb := mustKustomization(t, cb, "flux-system", "apps")
	cm := mustObject(t, kb, "ConfigMap", "web", "web")
	if got := str(t, cm.Object, "data", "from"); got != "artifact" {
		t.Errorf("built %q", got)
	}
	want := "OCIRepository/flux-system/apps@1.0.0@" + manifest
	if kb.Source != want || cm.Origin.File != want+":apps/web/configmap.yaml" {
		t.Errorf("source %q, origin %v; want %s", kb.Source, cm.Origin, want)
	}
	pulls := reg.BlobGets.Load()
	buildOneOCI(t, repo, fetcher)
	if again := reg.BlobGets.Load(); again != pulls {
		t.Errorf("the cached layer was pulled again (%d blob requests, then %d)", pulls, again)
	}
}

// TestOCIRepositoryDigestVerified: a layer whose bytes do not match its
// digest is refused, never built.
func TestOCIRepositoryDigestVerified(t *testing.T) {
	reg, repo, _ := ociFixture(t)
	reg.Corrupt.Store(true)
	cb := buildOneOCI(t, repo, &source.OCIFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)})
	kb := mustKustomization(t, cb, "flux-system", "apps")
	if kb.Err == nil || len(kb.Objects) > 0 {
		t.Fatalf("built %d objects from a corrupted layer", len(kb.Objects))
	}
	if !strings.Contains(kb.Err.Error(), "digest") {
		t.Errorf("error: %v", kb.Err)
	}
}
