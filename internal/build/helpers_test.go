package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// buildTimeout bounds every build of these tests: a build that loops (a
// Kustomization adopting or rediscovering itself forever) fails the test
// instead of hanging the package.
const buildTimeout = 30 * time.Second

// writeTree writes files (slash-separated relative path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
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

// buildConfig configures buildRepo.
type buildConfig struct {
	ageKeyFile string
	git        *source.GitFetcher
	// allowRemote is --allow-remote-bases.
	allowRemote bool
	// external are --external-objects files.
	external []string
	// rootSource is --root-source.
	rootSource *build.RootSource
	// oci pulls OCIRepository sources.
	oci *source.OCIFetcher
	// externalIsCluster: the external objects stand for the live cluster.
	externalIsCluster bool
}

// buildRepo builds cluster paths of the repository at dir with a Builder
// of its own and returns one ClusterBuild per path. It fails the test when
// the build does not finish within buildTimeout.
func buildRepo(t *testing.T, dir string, paths []string, c buildConfig) []*result.ClusterBuild {
	t.Helper()
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths, err = repo.ClusterPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	opts := build.DefaultOptions(repo)
	if c.ageKeyFile != "" {
		if opts.Decryptor, err = build.NewDecryptorFromFile(c.ageKeyFile); err != nil {
			t.Fatal(err)
		}
	}
	opts.Git = c.git
	opts.AllowRemoteBases = c.allowRemote
	opts.RootSource = c.rootSource
	opts.OCI = c.oci
	opts.ExternalIsCluster = c.externalIsCluster
	if len(c.external) > 0 {
		ext, err := build.LoadExternal(c.external, opts.Decryptor)
		if err != nil {
			t.Fatal(err)
		}
		opts.External = ext.Lookup()
	}
	b, err := build.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	done := make(chan []*result.ClusterBuild, 1)
	go func() { done <- b.BuildAll(ctx, paths) }()
	select {
	case out := <-done:
		if ctx.Err() != nil {
			t.Fatalf("build did not finish within %s (loop?)", buildTimeout)
		}
		return out
	case <-time.After(buildTimeout + 5*time.Second):
		t.Fatalf("build did not return within %s (loop ignoring the context?)", buildTimeout)
		return nil
	}
}

// buildOneOCI builds clusters/dev with an OCI fetcher.
func buildOneOCI(t *testing.T, dir string, oci *source.OCIFetcher) *result.ClusterBuild {
	t.Helper()
	return buildOne(t, dir, "clusters/dev", buildConfig{oci: oci})
}

// buildOne builds a single cluster path.
func buildOne(t *testing.T, dir, path string, c buildConfig) *result.ClusterBuild {
	t.Helper()
	return buildRepo(t, dir, []string{path}, c)[0]
}

func fleetDir(t *testing.T) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "fleet")
}

func ageKey(t *testing.T) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "keys", "age.agekey")
}

// kustomization returns the build of ns/name, or nil.
func kustomization(cb *result.ClusterBuild, ns, name string) *result.KustomizationBuild {
	for _, kb := range cb.Kustomizations {
		if kb.Ref.Namespace == ns && kb.Ref.Name == name {
			return kb
		}
	}
	return nil
}

func mustKustomization(t *testing.T, cb *result.ClusterBuild, ns, name string) *result.KustomizationBuild {
	t.Helper()
	kb := kustomization(cb, ns, name)
	if kb == nil {
		t.Fatalf("no Kustomization %s/%s in the build of %s; have %v\nfindings:\n%s", ns, name, cb.Path, refs(cb), findingsText(cb))
	}
	return kb
}

func refs(cb *result.ClusterBuild) []string {
	var out []string
	for _, kb := range cb.Kustomizations {
		out = append(out, kb.Ref.String())
	}
	return out
}

// object returns the object kind/ns/name of a Kustomization build, or nil.
func object(kb *result.KustomizationBuild, kind, ns, name string) *result.Object {
	for i := range kb.Objects {
		o := &kb.Objects[i]
		if o.Object.GetKind() == kind && o.Object.GetNamespace() == ns && o.Object.GetName() == name {
			return o
		}
	}
	return nil
}

func mustObject(t *testing.T, kb *result.KustomizationBuild, kind, ns, name string) *result.Object {
	t.Helper()
	o := object(kb, kind, ns, name)
	if o == nil {
		var have []string
		for _, o := range kb.Objects {
			have = append(have, o.ID().String())
		}
		t.Fatalf("no %s %s/%s in Kustomization %s; have %v (err: %v)", kind, ns, name, kb.Ref, have, kb.Err)
	}
	return o
}

func str(t *testing.T, u *unstructured.Unstructured, fields ...string) string {
	t.Helper()
	v, ok, err := unstructured.NestedString(u.Object, fields...)
	if err != nil || !ok {
		t.Fatalf("%s %s: no string at %v (err %v)", u.GetKind(), u.GetName(), fields, err)
	}
	return v
}

// findingsText renders the findings of a build one per line, masked.
func findingsText(cb *result.ClusterBuild) string {
	var b strings.Builder
	m := report.NewMasker(cb.Sensitive)
	for _, f := range cb.Findings {
		b.WriteString(m.Mask(report.FindingLine(f)) + "\n")
	}
	return b.String()
}

// errorFindings returns the error findings of a build.
func errorFindings(cb *result.ClusterBuild) []result.Finding {
	var out []result.Finding
	for _, f := range cb.Findings {
		if f.Severity == result.SeverityError {
			out = append(out, f)
		}
	}
	return out
}

func renderYAML(t *testing.T, builds ...*result.ClusterBuild) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.BuildYAML(&buf, builds); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
