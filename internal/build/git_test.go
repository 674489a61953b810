package build_test

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	gitobject "github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipwayhq/slipway/internal/source"
)

// extRepo is a Git repository created with go-git for a test: a work tree
// and a bare clone of it that is served to slipway.
type extRepo struct {
	t       *testing.T
	work    string
	bare    string
	repo    *git.Repository
	commits []plumbing.Hash
}

var sig = &gitobject.Signature{Name: "test", Email: "test@example.com", When: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}

func newExtRepo(t *testing.T) *extRepo {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	r, err := git.PlainInitWithOptions(work, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &extRepo{t: t, work: work, repo: r}
}

// commit writes files and commits them on the current branch.
func (e *extRepo) commit(msg string, files map[string]string) plumbing.Hash {
	e.t.Helper()
	writeTree(e.t, e.work, files)
	wt, err := e.repo.Worktree()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		e.t.Fatal(err)
	}
	s := *sig
	s.When = sig.When.Add(time.Duration(len(e.commits)) * time.Minute)
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &s, Committer: &s})
	if err != nil {
		e.t.Fatal(err)
	}
	e.commits = append(e.commits, h)
	return h
}

func (e *extRepo) tag(name string, h plumbing.Hash, annotated bool) {
	e.t.Helper()
	var opts *git.CreateTagOptions
	if annotated {
		opts = &git.CreateTagOptions{Tagger: sig, Message: "release " + name}
	}
	if _, err := e.repo.CreateTag(name, h, opts); err != nil {
		e.t.Fatal(err)
	}
}

// publish (re)creates the bare repository served to slipway from the work
// tree: every branch and tag.
func (e *extRepo) publish() string {
	e.t.Helper()
	if e.bare == "" {
		e.bare = filepath.Join(e.t.TempDir(), "ext.git")
	}
	if err := os.RemoveAll(e.bare); err != nil {
		e.t.Fatal(err)
	}
	if _, err := git.PlainClone(e.bare, true, &git.CloneOptions{URL: e.work, Tags: git.AllTags}); err != nil {
		e.t.Fatal(err)
	}
	return e.bare
}

// gitServer serves the bare repositories under root over Git's smart HTTP
// protocol with `git http-backend`, counting the requests.
type gitServer struct {
	*httptest.Server
	listings atomic.Int64 // GET info/refs?service=git-upload-pack
	fetches  atomic.Int64 // POST git-upload-pack (a clone or fetch)
}

func newGitServer(t *testing.T, root string) *gitServer {
	t.Helper()
	s := &gitServer{}
	backend := &cgi.Handler{
		Path: requireGit(t),
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/info/refs"):
			s.listings.Add(1)
		case strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
			s.fetches.Add(1)
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// requireGit returns the git binary: go-git's file transport runs
// git-upload-pack, and the HTTP server runs git http-backend.
func requireGit(t *testing.T) string {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	return gitBin
}

// newVersionedRepo creates the external repository of the Git tests:
//
//	c0  version 1.1.0   tag v1.1.0
//	c1  version 1.2.0   tag v1.2.0
//	c2  version 1.3.0   tag v1.3.0 (annotated)
//	c3  version main    branch main
func newVersionedRepo(t *testing.T) *extRepo {
	e := newExtRepo(t)
	for i, v := range []string{"1.1.0", "1.2.0", "1.3.0", "main"} {
		h := e.commit("version "+v, map[string]string{
			"deploy/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - configmap.yaml\n",
			"deploy/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ext-version\n  namespace: default\ndata:\n  version: \"" + v + "\"\n",
		})
		if v != "main" {
			e.tag("v"+v, h, i == 2)
		}
	}
	return e
}

// fleetWithGitSource writes a configuration repository whose cluster path
// declares a GitRepository "ext" (url, ref given as YAML lines) and a
// Kustomization building ./deploy from it.
func fleetWithGitSource(t *testing.T, url, ref string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"clusters/test/ext.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: ext
  namespace: flux-system
spec:
  interval: 5m
  url: ` + url + `
  ref:
` + ref + `---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ext-app
  namespace: flux-system
spec:
  interval: 10m
  path: ./deploy
  prune: true
  sourceRef:
    kind: GitRepository
    name: ext
`,
	})
	return dir
}

// TestExternalGitRepository builds a Kustomization whose source is another
// Git repository, served over smart HTTP, for each form of spec.ref, and
// checks the checkout cache. Local paths are refused.
func TestExternalGitRepository(t *testing.T) {
	requireGit(t)
	e := newVersionedRepo(t)
	bare := e.publish()
	srv := newGitServer(t, filepath.Dir(bare))
	httpURL := srv.URL + "/" + filepath.Base(bare)
	c := e.commits

	cases := []struct {
		name, ref    string
		wantVersion  string
		wantRevision string
	}{
		{"branch", "    branch: main\n", "main", "main@sha1:" + c[3].String()},
		{"tag", "    tag: v1.2.0\n", "1.2.0", "v1.2.0@sha1:" + c[1].String()},
		{"annotated-tag", "    tag: v1.3.0\n", "1.3.0", "v1.3.0@sha1:" + c[2].String()},
		{"semver", "    semver: \">=1.0.0 <1.3.0\"\n", "1.2.0", "v1.2.0@sha1:" + c[1].String()},
		{"semver-annotated", "    semver: \">=1.3.0\"\n", "1.3.0", "v1.3.0@sha1:" + c[2].String()},
		{"commit", "    commit: " + c[0].String() + "\n", "1.1.0", "sha1:" + c[0].String()},
		{"commit-on-branch", "    branch: main\n    commit: " + c[1].String() + "\n", "1.2.0", "main@sha1:" + c[1].String()},
		// Flux's precedence: semver over tag over branch.
		{"semver-over-tag", "    tag: v1.3.0\n    semver: \"<1.2.0\"\n", "1.1.0", "v1.1.0@sha1:" + c[0].String()},
		{"tag-over-branch", "    branch: main\n    tag: v1.2.0\n", "1.2.0", "v1.2.0@sha1:" + c[1].String()},
	}
	transports := []struct{ name, url string }{
		{"http", httpURL},
	}
	for _, tr := range transports {
		for _, tc := range cases {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				dir := fleetWithGitSource(t, tr.url, tc.ref)
				cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}})
				if errs := errorFindings(cb); len(errs) != 0 {
					t.Fatalf("unexpected errors:\n%s", findingsText(cb))
				}
				kb := mustKustomization(t, cb, "flux-system", "ext-app")
				cm := mustObject(t, kb, "ConfigMap", "default", "ext-version")
				if got := str(t, cm.Object, "data", "version"); got != tc.wantVersion {
					t.Errorf("built revision has version %q, want %q", got, tc.wantVersion)
				}
				if tc.wantRevision != "" {
					t.Run("revision", func(t *testing.T) {
						if strings.Contains(tc.name, "annotated") {
						}
						if kb.Source != "GitRepository/flux-system/ext@"+tc.wantRevision {
							t.Errorf("Source = %q, want revision %s", kb.Source, tc.wantRevision)
						}
					})
				}
				if want := kb.Source + ":deploy/configmap.yaml"; cm.Origin.File != want || cm.Origin.Line != 1 {
					t.Errorf("origin = %v, want %s:1", cm.Origin, want)
				}
			})
		}
	}

	// A GitRepository naming a path on the runner's disk would read it
	// (source-controller fetches none either).
	for name, u := range map[string]string{"plain-path": bare, "file-url": "file://" + bare} {
		t.Run(name, func(t *testing.T) {
			dir := fleetWithGitSource(t, u, "    tag: v1.2.0\n")
			cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}})
			kb := mustKustomization(t, cb, "flux-system", "ext-app")
			// SourceError keeps the reason as text.
			if kb.Err == nil || !strings.Contains(kb.Err.Error(), source.ErrUnsupportedGitURL.Error()) {
				t.Errorf("want the local source refused, got %v", kb.Err)
			}
			if len(kb.Objects) != 0 {
				t.Errorf("nothing may be built from a local path, got %d objects", len(kb.Objects))
			}
		})
	}

	t.Run("missing-tag", func(t *testing.T) {
		dir := fleetWithGitSource(t, httpURL, "    tag: v9.9.9\n")
		cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}})
		kb := mustKustomization(t, cb, "flux-system", "ext-app")
		t.Logf("missing tag: %v", kb.Err)
		if kb.Err == nil || !strings.Contains(kb.Err.Error(), "v9.9.9") {
			t.Errorf("Kustomization error must name the missing tag, got %v", kb.Err)
		}
		errs := errorFindings(cb)
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "v9.9.9") || errs[0].Origin.File != "clusters/test/ext.yaml" {
			t.Errorf("want one error finding naming v9.9.9 at clusters/test/ext.yaml, got:\n%s", findingsText(cb))
		}
		if len(kb.Objects) != 0 {
			t.Errorf("nothing may be built from a missing tag, got %d objects", len(kb.Objects))
		}
	})

	t.Run("semver-no-match", func(t *testing.T) {
		dir := fleetWithGitSource(t, httpURL, "    semver: \">=2.0.0\"\n")
		cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(nil, true)}})
		kb := mustKustomization(t, cb, "flux-system", "ext-app")
		if kb.Err == nil || !strings.Contains(kb.Err.Error(), ">=2.0.0") {
			t.Errorf("error must name the semver range, got %v", kb.Err)
		}
	})

	t.Run("fetching-disabled", func(t *testing.T) {
		dir := fleetWithGitSource(t, httpURL, "    tag: v1.2.0\n")
		before := srv.listings.Load() + srv.fetches.Load()
		cb := buildOne(t, dir, "clusters/test", buildConfig{})
		kb := mustKustomization(t, cb, "flux-system", "ext-app")
		if kb.Err == nil || !strings.Contains(kb.Err.Error(), "fetching is disabled") {
			t.Errorf("want a 'fetching is disabled' error, got %v", kb.Err)
		}
		if n := srv.listings.Load() + srv.fetches.Load() - before; n != 0 {
			t.Errorf("no request may be made when fetching is disabled; got %d", n)
		}
	})

	t.Run("cache", func(t *testing.T) {
		cache := t.TempDir()
		dir := fleetWithGitSource(t, httpURL, "    branch: main\n")
		build := func() string {
			cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: cache, Network: source.RunNetwork(nil, true)}})
			if errs := errorFindings(cb); len(errs) != 0 {
				t.Fatalf("unexpected errors:\n%s", findingsText(cb))
			}
			cm := mustObject(t, mustKustomization(t, cb, "flux-system", "ext-app"), "ConfigMap", "default", "ext-version")
			return str(t, cm.Object, "data", "version")
		}
		fetches := srv.fetches.Load()
		if v := build(); v != "main" {
			t.Fatalf("first build: version %q", v)
		}
		if n := srv.fetches.Load() - fetches; n != 1 {
			t.Fatalf("first build: %d clones, want 1", n)
		}
		entries, err := os.ReadDir(cache)
		if err != nil || len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), c[3].String()) {
			t.Fatalf("cache must hold one checkout keyed by the commit, got %v (%v)", entries, err)
		}
		if _, err := os.Stat(filepath.Join(cache, entries[0].Name(), ".git")); !os.IsNotExist(err) {
			t.Errorf("the cached checkout must not keep .git (err %v)", err)
		}
		stamp := filepath.Join(cache, entries[0].Name(), "deploy", "configmap.yaml")
		st1, err := os.Stat(stamp)
		if err != nil {
			t.Fatal(err)
		}

		// Second run, new fetcher (as a new process would), same cache: the
		// remote is listed to resolve the branch, but nothing is cloned.
		fetches, listings := srv.fetches.Load(), srv.listings.Load()
		if v := build(); v != "main" {
			t.Fatalf("second build: version %q", v)
		}
		if n := srv.fetches.Load() - fetches; n != 0 {
			t.Errorf("second build cloned again (%d upload-pack requests)", n)
		}
		if n := srv.listings.Load() - listings; n != 1 {
			t.Errorf("second build must list the remote once to resolve the branch, got %d", n)
		}
		st2, err := os.Stat(stamp)
		if err != nil || !st2.ModTime().Equal(st1.ModTime()) {
			t.Errorf("the cached checkout was rewritten (err %v)", err)
		}

		// The branch moves: the cache is keyed by commit, so the new commit
		// is fetched and built, not the stale checkout.
		c4 := e.commit("version next", map[string]string{
			"deploy/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ext-version\n  namespace: default\ndata:\n  version: \"next\"\n",
		})
		e.publish()
		fetches = srv.fetches.Load()
		if v := build(); v != "next" {
			t.Errorf("after the branch moved: version %q, want next", v)
		}
		if n := srv.fetches.Load() - fetches; n != 1 {
			t.Errorf("after the branch moved: %d clones, want 1", n)
		}
		if _, err := os.Stat(filepath.Join(cache, entries[0].Name()[:len(entries[0].Name())-len(c[3].String())]+c4.String())); err != nil {
			t.Errorf("no checkout for the new commit: %v", err)
		}
	})
}
