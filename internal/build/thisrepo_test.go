package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// thisRepoHistory gives the this-repo-ref fixture a history:
//
//	c1  version 1.0   tag v1.0.0
//	c2  version 2.0   refs/remotes/origin/release only
//	c3  version 3.0   main (HEAD)
//
// and leaves version "worktree" uncommitted in the worktree.
func thisRepoHistory(t *testing.T) *testutil.GitRepo {
	g := testutil.NewGitRepo(t, fidelityRepo(t, "this-repo-ref"), "git@github.com:example/fleet.git")
	for _, v := range []string{"1.0", "2.0", "3.0"} {
		g.Write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-version\ndata:\n  version: \""+v+"\"\n")
		h := g.Commit("version " + v)
		switch v {
		case "1.0":
			g.SetRef("refs/tags/v1.0.0", h)
		case "2.0":
			g.SetRef("refs/remotes/origin/release", h)
		}
	}
	g.Write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-version\ndata:\n  version: \"worktree\"\n")
	return g
}

func appVersion(t *testing.T, cb *result.ClusterBuild, ks, ns string) string {
	t.Helper()
	o := mustObject(t, mustKustomization(t, cb, "flux-system", ks), "ConfigMap", ns, "app-version")
	return str(t, o.Object, "data", "version")
}

// TestThisRepositoryAtAnotherRef: a GitRepository naming this repository
// with another ref is built from that ref's Git objects (a tag, a branch
// only the remote-tracking refs hold), never from the worktree; the root
// source is the checkout, uncommitted changes included.
func TestThisRepositoryAtAnotherRef(t *testing.T) {
	g := thisRepoHistory(t)
	cb := buildOne(t, g.Dir, "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	for ks, want := range map[string]string{"apps-edge": "worktree", "apps-stable": "1.0", "apps-release": "2.0"} {
		ns := strings.TrimPrefix(ks, "apps-")
		if got := appVersion(t, cb, ks, ns); got != want {
			t.Errorf("%s built version %q, want %q", ks, got, want)
		}
	}
	o := mustObject(t, mustKustomization(t, cb, "flux-system", "apps-stable"), "ConfigMap", "stable", "app-version")
	if !strings.HasPrefix(o.Origin.File, "GitRepository/flux-system/stable@v1.0.0@sha1:") {
		t.Errorf("origin %q does not name the revision", o.Origin.File)
	}
	// HEAD is main: the root source needs no word.
	if strings.Contains(findingsText(cb), "follows") {
		t.Errorf("unexpected finding:\n%s", findingsText(cb))
	}
}

// TestFeatureBranchRoot: on a branch other than the one the root
// GitRepository follows (CI of a feature branch), the root is still built
// from the checkout, with an info finding saying which ref Flux reads.
func TestFeatureBranchRoot(t *testing.T) {
	g := thisRepoHistory(t)
	g.Branch("feature")
	g.Commit("feature work")
	cb := buildOne(t, g.Dir, "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	if got := appVersion(t, cb, "apps-edge", "edge"); got != "worktree" {
		t.Errorf("the root source built %q, want the worktree", got)
	}
	var info *result.Finding
	for i, f := range cb.Findings {
		if f.Check == "source" && f.Severity == result.SeverityInfo {
			info = &cb.Findings[i]
		}
	}
	if info == nil {
		t.Fatalf("no info finding about the root's ref:\n%s", findingsText(cb))
	}
	if !strings.Contains(info.Message, "follows branch main (main@sha1:") || info.Origin.File != "clusters/dev/flux-system/gotk-sync.yaml" {
		t.Errorf("finding %s: %s", info.Origin, info.Message)
	}
}

// TestThisRepositoryRefNotLocal: a ref the local repository lacks is
// fetched; with fetching disabled it is an error, never the worktree.
func TestThisRepositoryRefNotLocal(t *testing.T) {
	g := thisRepoHistory(t)
	cb := buildOne(t, g.Dir, "clusters/pinned", buildConfig{})
	kb := mustKustomization(t, cb, "flux-system", "apps-future")
	if kb.Err == nil || len(kb.Objects) > 0 {
		t.Fatalf("built %d objects from a tag that is not there", len(kb.Objects))
	}
	if !strings.Contains(kb.Err.Error(), "tag v9.9.9 is not in the local repository, and fetching is disabled") {
		t.Errorf("error: %v", kb.Err)
	}
}

// TestThisRepositoryLocalOrFetched: a clone of a served repository names
// itself in a GitRepository. What the clone holds is read locally (no
// request to the server); a tag it lacks is fetched; the checked-out
// branch is the worktree, uncommitted changes included.
func TestThisRepositoryLocalOrFetched(t *testing.T) {
	requireGit(t)
	e := newVersionedRepo(t)
	bare := e.publish()
	srv := newGitServer(t, filepath.Dir(bare))
	url := srv.URL + "/" + filepath.Base(bare)
	c := e.commits
	cases := []struct {
		name, ref, want string
		tags            bool
		fetched         bool
	}{
		{"checked-out-branch", "    branch: main\n", "dirty", false, false},
		{"tag-fetched", "    tag: v1.2.0\n", "1.2.0", false, true},
		{"tag-local", "    tag: v1.2.0\n", "1.2.0", true, false},
		{"annotated-tag-local", "    tag: v1.3.0\n", "1.3.0", true, false},
		{"semver-local", "    semver: \"<1.3.0\"\n", "1.2.0", true, false},
		{"commit-local", "    commit: " + c[0].String() + "\n", "1.1.0", false, false},
		{"head-commit", "    commit: " + c[3].String() + "\n", "dirty", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			// The git binary, not go-git: once a GitFetcher ran, go-git's
			// shared transport refuses loopback to whatever does not carry a
			// fetcher's opt-in, as repository content must be refused.
			args := []string{"clone", "-q", url, dir}
			if !tc.tags {
				args = append(args, "--no-tags")
			}
			cmd := exec.Command("git", args...)
			// The package's chart server is the HTTP proxy; the Git server is not behind it.
			cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git clone: %v\n%s", err, out)
			}
			fleet := fleetWithGitSource(t, url, tc.ref)
			if err := os.CopyFS(dir, os.DirFS(fleet)); err != nil {
				t.Fatal(err)
			}
			writeTree(t, dir, map[string]string{"deploy/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ext-version\n  namespace: default\ndata:\n  version: dirty\n"})
			before := srv.fetches.Load()
			cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}})
			if errs := errorFindings(cb); len(errs) != 0 {
				t.Fatalf("unexpected errors:\n%s", findingsText(cb))
			}
			cm := mustObject(t, mustKustomization(t, cb, "flux-system", "ext-app"), "ConfigMap", "default", "ext-version")
			if got := str(t, cm.Object, "data", "version"); got != tc.want {
				t.Errorf("built version %q, want %q", got, tc.want)
			}
			if fetched := srv.fetches.Load() > before; fetched != tc.fetched {
				t.Errorf("fetched = %v, want %v", fetched, tc.fetched)
			}
		})
	}
}

// TestChartFromThisRepositoryAtAnotherRef: a HelmRelease's chart from a
// GitRepository of this repository at another commit is not read from the
// worktree (it is fetched; here fetching is off, so it fails), while one
// at the checked-out commit is.
func TestChartFromThisRepositoryAtAnotherRef(t *testing.T) {
	g := thisRepoHistory(t)
	chart := func(v string) {
		g.Write("charts/demo/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 1.0.0\n")
		g.Write("charts/demo/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  chart: \""+v+"\"\n")
	}
	chart("old")
	g.SetRef("refs/tags/chart-old", g.Commit("old chart"))
	chart("head")
	g.Commit("head chart")
	g.Write("clusters/dev/releases.yaml", `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: charts-old, namespace: flux-system}
spec: {interval: 10m, url: https://github.com/example/fleet, ref: {tag: chart-old}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: charts-head, namespace: flux-system}
spec: {interval: 10m, url: https://github.com/example/fleet, ref: {branch: main}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: old, namespace: apps}
spec:
  interval: 10m
  chart: {spec: {chart: ./charts/demo, sourceRef: {kind: GitRepository, name: charts-old, namespace: flux-system}}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: head, namespace: apps}
spec:
  interval: 10m
  chart: {spec: {chart: ./charts/demo, sourceRef: {kind: GitRepository, name: charts-head, namespace: flux-system}}}
`)
	cb := buildOne(t, g.Dir, "clusters/dev", buildConfig{})
	root := mustKustomization(t, cb, "flux-system", "flux-system")
	if rb := release(t, root, "apps", "old"); rb.Err == nil || !strings.Contains(rb.Err.Error(), "fetching other Git repositories is not enabled") {
		t.Errorf("the old chart: %v (%d objects)", rb.Err, len(rb.Objects))
	}
	rb := release(t, root, "apps", "head")
	if rb.Err != nil || len(rb.Objects) != 1 || str(t, rb.Objects[0].Object, "data", "chart") != "head" {
		t.Errorf("the checked-out chart: %v", rb.Err)
	}
}
