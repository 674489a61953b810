package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// harness builds slipway and finds the cached Flux CLI; the test is
// skipped without the CLI (make fidelity builds it, ~2.5 min) or with
// -short.
func harness(t *testing.T) options {
	t.Helper()
	if testing.Short() {
		t.Skip("builds slipway and runs the Flux CLI")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	flux := filepath.Join(home, ".cache", "slipway", "flux", fluxVersion, "flux")
	if _, err := os.Stat(flux); err != nil {
		t.Skipf("no Flux CLI at %s: run make fidelity once", flux)
	}
	bin := filepath.Join(t.TempDir(), "slipway")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/slipway")
	cmd.Dir = testutil.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building slipway: %v\n%s", err, out)
	}
	return options{flux: flux, slipway: bin, parallel: 2}
}

// TestFetchedSourcesCompared: Kustomizations built from an OCIRepository
// (pulled from a registry served here) and from another ref of this
// repository (a tag, read from its Git objects) are compared with the
// Flux CLI, not counted as "not compared".
func TestFetchedSourcesCompared(t *testing.T) {
	o := harness(t)
	fixtures := filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity")

	reg := testutil.StartRegistry(t)
	reg.PushArtifact(t, "manifests/apps", "1.2.0", filepath.Join(fixtures, "oci-source", "artifact"))
	oci := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(oci, os.DirFS(filepath.Join(fixtures, "oci-source", "repo"))); err != nil {
		t.Fatal(err)
	}
	apps := filepath.Join(oci, "clusters", "dev", "apps.yaml")
	data, err := os.ReadFile(apps)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(apps, []byte(strings.ReplaceAll(string(data), "OCI_REGISTRY", reg.Host)), 0o644); err != nil {
		t.Fatal(err)
	}
	expect := filepath.Join(t.TempDir(), "expect.yaml")
	if err := os.WriteFile(expect, []byte("slipwayArgs: [--allow-local-sources]\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	g := testutil.NewGitRepo(t, filepath.Join(fixtures, "this-repo-ref", "repo"), "git@github.com:example/fleet.git")
	g.Write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-version\ndata:\n  version: \"1.0\"\n")
	g.SetRef("refs/tags/v1.0.0", g.Commit("version 1.0"))
	g.Write("README.md", "release notes\n")
	g.SetRef("refs/remotes/origin/release", g.Commit("release"))
	g.Write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-version\ndata:\n  version: \"main\"\n")
	g.Commit("main work")
	refExpect := filepath.Join(t.TempDir(), "expect.yaml")
	if err := os.WriteFile(refExpect, []byte("slipwayArgs: [--path, clusters/dev]\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		repo, expect string
		compared     int // Kustomizations compared at least
	}{{oci, expect, 2}, {g.Dir, refExpect, 3}} {
		rep, err := checkRepo(context.Background(), o, target{repo: c.repo, expect: c.expect})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (Flux CLI over %d builds)", rep.Summary(), rep.fluxRuns)
		if !rep.OK() || rep.NotCompared != 0 || rep.fluxRuns < c.compared {
			t.Errorf("%s: %s over %d Flux builds\n%s", c.repo, rep.Summary(), rep.fluxRuns, strings.Join(rep.Lines, "\n"))
		}
	}
}
