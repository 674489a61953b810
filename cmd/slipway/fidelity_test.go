package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// fidelityCase returns testdata/fidelity/<name>: repositories in the
// patterns real Flux repositories use, where slipway once built something
// other than what Flux applies.
func fidelityCase(t *testing.T, name string) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", name)
}

// TestBuildSourceIgnoreTemplate: "/*" then "!/kubernetes" in spec.ignore
// builds kubernetes/**, not nothing.
func TestBuildSourceIgnoreTemplate(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "source-ignore"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--path", "kubernetes/clusters/dev", "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"name: web\n", "# Source: kubernetes/apps/web/configmap.yaml:1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	for _, unwanted := range []string{"web-sample", "cluster-sample", "docs-example"} {
		if strings.Contains(r.out, unwanted) {
			t.Errorf("output has the ignored %q", unwanted)
		}
	}
}

// TestExternalObjectsFeedSubstituteFrom: --external-objects supplies a
// postBuild.substituteFrom ConfigMap that lives outside Git.
func TestExternalObjectsFeedSubstituteFrom(t *testing.T) {
	dir := fidelityCase(t, "substitute-from")
	repo := filepath.Join(dir, "repo")
	r := runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.out, "ConfigMap/flux-system/platform-settings not found") {
		t.Fatalf("without the ConfigMap: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir(), "--external-objects", filepath.Join(dir, "external.yaml"))
	if r.code != 0 || !strings.Contains(r.out, "registry: registry.example.internal") {
		t.Fatalf("with the ConfigMap from a file: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

// TestNothingSilent: build says on stderr what the objects alone do not
// (a Kustomization that builds nothing, Secrets left encrypted), and a
// cluster path that builds nothing fails; validate's text counts info
// findings.
func TestNothingSilent(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "empty"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/dev", "--cache-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.err, "! clusters/dev/apps.yaml:1 [empty]") {
		t.Errorf("build of an empty Kustomization: exit %d, stderr:\n%s", r.code, r.err)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/empty", "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.err, "builds no object") {
		t.Errorf("build of an empty cluster path: exit %d, stderr:\n%s", r.code, r.err)
	}
	repo = filepath.Join(fidelityCase(t, "sops-substitution"), "repo")
	r = runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.err, "· clusters/dev: 5 info (sops 3, substitution 2)") {
		t.Errorf("build with encrypted Secrets: exit %d, stderr:\n%s", r.code, r.err)
	}
	r = runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.out, "0 errors, 0 warnings, 5 info") {
		t.Errorf("validate with encrypted Secrets: exit %d, stdout:\n%s", r.code, r.out)
	}
}

// TestBuildThisRepositoryAtAnotherRef: a GitRepository naming this
// repository at a tag builds the tag's files, not the worktree's; on a
// feature branch the root is the checkout and stderr says which ref Flux
// follows.
func TestBuildThisRepositoryAtAnotherRef(t *testing.T) {
	g := testutil.NewGitRepo(t, filepath.Join(fidelityCase(t, "this-repo-ref"), "repo"), "git@github.com:example/fleet.git")
	g.Write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-version\ndata:\n  version: \"1.0\"\n")
	g.SetRef("refs/tags/v1.0.0", g.Commit("version 1.0"))
	g.Write("README.md", "release notes\n")
	g.SetRef("refs/remotes/origin/release", g.Commit("release"))
	g.Branch("feature")
	g.Write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-version\ndata:\n  version: \"feature\"\n")
	g.Commit("feature work")
	r := runCLI(t, nil, "build", "--repo", g.Dir, "--path", "clusters/dev", "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{
		"  name: app-version\n  namespace: stable\n",
		"# Source: GitRepository/flux-system/stable@v1.0.0@sha1:",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Count(r.out, `version: "1.0"`) != 2 || strings.Count(r.out, "version: feature") != 1 {
		t.Errorf("want the tag and the release branch at 1.0, the root source at the checkout:\n%s", r.out)
	}
	if !strings.Contains(r.err, "1 info (source 1)") {
		t.Errorf("stderr does not count the info finding:\n%s", r.err)
	}
	r = runCLI(t, nil, "validate", "--repo", g.Dir, "--path", "clusters/dev", "--cache-dir", t.TempDir(), "-o", "json")
	if !strings.Contains(r.out, "follows branch main (main@sha1:") {
		t.Errorf("validate does not say which ref Flux follows:\n%s\n%s", r.out, r.err)
	}
}

// TestBuildFluxOperatorRoot: a FluxInstance's spec.sync names the root
// source of a repository Flux Operator bootstrapped; --root-source names
// one defined outside the repository.
func TestBuildFluxOperatorRoot(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "flux-operator"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/prod", "--cache-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.out, "  name: app\n  namespace: prod\n") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "kustomize.toolkit.fluxcd.io/name: fleet") {
		t.Errorf("the root is not named after spec.sync.name:\n%s", r.out)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/edge", "--cache-dir", t.TempDir())
	// Nothing names the root: the error says which flag would.
	if r.code != 1 || !strings.Contains(r.err, "no such GitRepository") || !strings.Contains(r.err, "name it with --root-source GitRepository/flux-system/infra") {
		t.Fatalf("without --root-source: exit %d\n%s", r.code, r.err)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/edge", "--cache-dir", t.TempDir(), "--root-source", "GitRepository/flux-system/infra")
	if r.code != 0 || !strings.Contains(r.out, "  name: app\n  namespace: edge\n") {
		t.Fatalf("with --root-source: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/edge", "--cache-dir", t.TempDir(), "--root-source", "HelmRepository/flux-system/infra")
	if r.code != exitUsage || !strings.Contains(r.err, "--root-source") {
		t.Errorf("a bad --root-source: exit %d\n%s", r.code, r.err)
	}
}

// TestBuildUnreachableChartOnce: releases of one chart from a registry
// that cannot be reached each fail at their own line with the same
// error (the registry is asked once per run).
func TestBuildUnreachableChartOnce(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "unreachable-chart"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	var reasons []string
	for _, want := range []string{"clusters/dev/releases.yaml:15 [helm] HelmRelease/apps/frontend: ", "clusters/dev/releases.yaml:26 [helm] HelmRelease/apps/backend: "} {
		i := strings.Index(r.err, want)
		if i < 0 {
			t.Fatalf("stderr lacks %q:\n%s", want, r.err)
		}
		line, _, _ := strings.Cut(r.err[i+len(want):], "\n")
		reasons = append(reasons, line)
	}
	if reasons[0] != reasons[1] || !strings.Contains(reasons[0], "OCIRepository apps/podinfo") {
		t.Errorf("the releases fail differently:\n%s\n%s", reasons[0], reasons[1])
	}
}

// TestBuildOCIRepositorySource: a Kustomization synced from an artifact
// pushed with `flux push artifact` builds the artifact's manifests.
func TestBuildOCIRepositorySource(t *testing.T) {
	base := fidelityCase(t, "oci-source")
	reg := testutil.StartRegistry(t)
	manifest := reg.PushArtifact(t, "manifests/apps", "1.2.0", filepath.Join(base, "artifact"))
	repo := filepath.Join(t.TempDir(), "repo")
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
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir(), "--allow-local-sources")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"  from: artifact\n", "# Source: OCIRepository/flux-system/apps@1.2.0@" + manifest + ":apps/web/configmap.yaml:1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

// TestBuildCheckoutPathCharacters: a checkout under a directory whose
// name kustomize's in-memory filesystem refuses ("My Projects",
// "fleet+staging") builds as anywhere else; it failed with "illegal
// name … in directory creation" (kustomize-controller never meets it: it
// builds in a temporary directory of its own naming).
func TestBuildCheckoutPathCharacters(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "My Projects", "fleet+staging@2", "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(fidelityCase(t, "checkout-path"), "repo"))); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"  name: web\n  namespace: default\n", "  name: api\n  namespace: api\n", "# Source: apps/api/configmap.yaml:1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

// TestBuildGeneratorDataFiles: a configMapGenerator's file is the
// application's configuration, copied as bytes: YAML tags Kubernetes has
// no type for (recyclarr's `!env_var KEY`) are the application's, not an
// error (they were, as if the file were a manifest).
func TestBuildGeneratorDataFiles(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "generator-data"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"api_key: !env_var SONARR_API_KEY", "  name: recyclarr-config\n  namespace: media\n", "  name: recyclarr-env\n  namespace: media\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	// The same tag in a manifest is still refused.
	r = runCLI(t, nil, "build", "--repo", filepath.Join(fidelityCase(t, "generator-data"), "manifest-tag"), "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.err, "apps/config.yaml:6: unknown YAML tag !env_var") {
		t.Errorf("a tag in a manifest: exit %d\n%s", r.code, r.err)
	}
}

// TestBuildResourceSetCopyFromMissing: a ResourceSet the operator cannot
// render (its copyFrom Secret is made outside the repository) fails the
// build on stderr with its file and line, exit 1, not only in -o json;
// --external-objects gives the Secret.
func TestBuildResourceSetCopyFromMissing(t *testing.T) {
	dir := fidelityCase(t, "resourceset-copyfrom")
	repo := filepath.Join(dir, "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/staging", "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.err, "clusters/staging/tenants.yaml:3 [resourceset]") || !strings.Contains(r.err, "Secret flux-system/git-auth") {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/staging", "--cache-dir", t.TempDir(), "--external-objects", filepath.Join(dir, "external.yaml"))
	if r.code != 0 || !strings.Contains(r.out, "  name: git-auth\n  namespace: team-c\n") {
		t.Fatalf("with --external-objects: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
