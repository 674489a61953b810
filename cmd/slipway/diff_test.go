package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// committedFleet copies the example fleet into a new Git repository with
// one commit, and returns its directory.
func committedFleet(t *testing.T) string {
	t.Helper()
	src, _ := fleet(t)
	dir := filepath.Join(t.TempDir(), "fleet")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, dir, "base")
	return dir
}

// commitAll commits every change in the worktree at dir.
func commitAll(t *testing.T, dir, msg string) {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiffExitCodes(t *testing.T) {
	_, key := fleet(t)
	dir := committedFleet(t)
	args := func(extra ...string) []string {
		return append([]string{"diff", "--repo", dir, "--base", "HEAD", "--sops-age-key-file", key, "--exit-code"}, extra...)
	}

	r := runCLI(t, nil, args()...)
	if r.code != 0 || !strings.Contains(r.out, "✔ clusters/staging unchanged") {
		t.Fatalf("no change: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = runCLI(t, nil, "plan", "--repo", dir, "--base", "HEAD", "--head", "HEAD")
	if r.code != 0 || strings.TrimSpace(r.out) != "[]" {
		t.Fatalf("plan of nothing: exit %d %q %s", r.code, r.out, r.err)
	}

	editFile(t, filepath.Join(dir, "apps/staging/podinfo-settings.yaml"), "\n", "\n# edited\n")
	editFile(t, filepath.Join(dir, "apps/base/redis/deployment.yaml"), "replicas: 1", "replicas: 2")
	r = runCLI(t, nil, args("-o", "json")...)
	var res struct {
		Clusters []struct {
			Path, Action string
		}
	}
	if r.code != exitChanges || json.Unmarshal([]byte(r.out), &res) != nil || len(res.Clusters) != 2 || res.Clusters[0].Action != "changed" {
		t.Fatalf("a change: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// Without --exit-code a change is not a failure.
	if r = runCLI(t, nil, "diff", "--repo", dir, "--base", "HEAD", "--sops-age-key-file", key); r.code != 0 {
		t.Fatalf("without --exit-code: exit %d", r.code)
	}
	out := filepath.Join(t.TempDir(), "diff.md")
	r = runCLI(t, nil, args("-o", "markdown", "--output-file", out)...)
	md, _ := os.ReadFile(out)
	if r.code != exitChanges || r.out != "" || !strings.Contains(string(md), "```diff") {
		t.Fatalf("--output-file: exit %d, stdout %q, file:\n%s", r.code, r.out, md)
	}

	// A build error in the head: exit 1, with file and line.
	editFile(t, filepath.Join(dir, "apps/base/redis/configmap.yaml"), "metadata:\n", "metadata:\n  name: dup\n  name: dup\n")
	r = runCLI(t, nil, args()...)
	if r.code != 1 || !strings.Contains(r.out, "apps/base/redis/configmap.yaml:") {
		t.Fatalf("a broken head: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	r = runCLI(t, nil, "diff", "--repo", dir)
	if r.code != exitUsage || !strings.Contains(r.err, "--base is required") {
		t.Fatalf("no --base: exit %d %s", r.code, r.err)
	}
	r = runCLI(t, nil, "diff", "--repo", dir, "--base", "no-such-rev")
	if r.code != 1 || !strings.Contains(r.err, "no-such-rev") {
		t.Fatalf("a bad revision: exit %d %s", r.code, r.err)
	}
}

// TestDiffExampleFleetAcrossCommits is the "done when": diff and
// plan from the CLI on the example repository across two commits, offline
// and against a live cluster the base commit was deployed to — with a
// change in a shared base (both clusters), a chart version change of a
// HelmRelease from the HTTP Helm repository, an object removed (pruned),
// and a field slipway applied changed by hand (drift; a field added by hand
// is not drift: an apply would leave it, it belongs to another manager).
func TestDiffExampleFleetAcrossCommits(t *testing.T) {
	c := testcluster.ForTest(t, testcluster.Options{})
	_, key := fleet(t)
	dir := committedFleet(t)
	common := []string{"--repo", dir, "--sops-age-key-file", key, "--cache-dir", t.TempDir()}
	cli := func(args ...string) cliResult {
		t.Helper()
		return runCLI(t, nil, append(args, common...)...)
	}
	if r := cli("apply", "--path", "clusters/staging", "--kubeconfig", c.Kubeconfig, "--wait", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("deploying the base: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	editFile(t, filepath.Join(dir, "apps/base/redis/deployment.yaml"), "replicas: 1", "replicas: 2")
	editFile(t, filepath.Join(dir, "apps/staging/remote-charts.yaml"), "version: 1.x", "version: ~1.1.0")
	editFile(t, filepath.Join(dir, "apps/staging/kustomization.yaml"), "  - podinfo-settings.yaml\n", "")
	commitAll(t, dir, "redis 2 replicas, status-page 1.1, drop podinfo-settings")
	if _, err := c.Kubectl(t.Context(), "-n", "podinfo", "patch", "configmap", "podinfo-raw-template", "--type", "merge", "-p", `{"data":{"entrypoint.sh":"#!/bin/sh\nexec ./podinfo --edited-by-hand\n"}}`); err != nil {
		t.Fatal(err)
	}

	// Offline: both clusters change (shared base).
	r := cli("diff", "--base", "HEAD~1", "--head", "HEAD", "--exit-code", "-o", "json")
	off := decodeDiff(t, r, exitChanges)
	if got := changedPaths(off.Clusters); got != "clusters/production,clusters/staging" {
		t.Errorf("offline diff changed %q", got)
	}
	staging := findCluster(t, off.Clusters, "clusters/staging")
	wantObject(t, staging, "Deployment", "redis", diff.Changed)
	wantObject(t, staging, "ConfigMap", "podinfo-settings", diff.Removed)
	rel := findRelease(t, staging, "status-page")
	if rel.ChartFrom == nil || rel.ChartTo == nil || rel.ChartFrom.Version != "1.2.0" || rel.ChartTo.Version != "1.1.0" {
		t.Errorf("status-page chart change not reported: %+v -> %+v", rel.ChartFrom, rel.ChartTo)
	}
	r = cli("plan", "--base", "HEAD~1", "--head", "HEAD")
	if r.code != 0 || strings.TrimSpace(r.out) != `["clusters/production","clusters/staging"]` {
		t.Fatalf("plan: exit %d %q %s", r.code, r.out, r.err)
	}

	// Live: what applying HEAD would do to the cluster deployed from HEAD~1,
	// and the hand edit as drift.
	// The chart versions differ only in their helm.sh/chart label, which
	// the diff strips by default: keep it here to see the upgrade's objects.
	r = cli("diff", "--live", "--kubeconfig", c.Kubeconfig, "--base", "HEAD~1", "--head", "HEAD", "--path", "clusters/staging", "--exit-code", "-o", "json", "--strip-labels=")
	live := decodeDiff(t, r, exitChanges)
	ls := findCluster(t, live.Clusters, "clusters/staging")
	wantObject(t, ls, "Deployment", "redis", diff.Changed)
	wantObject(t, ls, "ConfigMap", "podinfo-settings", diff.Removed)
	if lr := findRelease(t, ls, "status-page"); len(lr.Objects) == 0 {
		t.Error("live: the status-page upgrade changes no rendered object (its chart label changes)")
	}
	// The hand edit: applying the head puts the value back (a change), and
	// drift says why — the live object differs from what HEAD~1 applied.
	wantObject(t, ls, "ConfigMap", "podinfo-raw-template", diff.Changed)
	if len(live.Drift) != 1 {
		t.Fatalf("live: drift = %d cluster paths, want 1", len(live.Drift))
	}
	wantObject(t, live.Drift[0], "ConfigMap", "podinfo-raw-template", diff.Changed)
	if out := r.out + r.err; strings.Contains(out, "s3cr3t-staging-db-pw") || strings.Contains(out, "tok-staging-9f8e7d") {
		t.Error("a secret value is in the live diff")
	}

	// Deploying HEAD, then HEAD~1 from a checkout of it: the older commit is
	// refused (exit 4, nothing changed) unless --allow-rollback.
	if r := cli("apply", "--path", "clusters/staging", "--kubeconfig", c.Kubeconfig); r.code != exitOK {
		t.Fatalf("deploying HEAD: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	checkout(t, dir, "HEAD~1")
	r = cli("apply", "--path", "clusters/staging", "--kubeconfig", c.Kubeconfig)
	if r.code != exitOutOfOrder || !strings.Contains(r.out, "a newer commit than") {
		t.Fatalf("deploying HEAD~1 after HEAD: exit %d (want %d)\n%s\n%s", r.code, exitOutOfOrder, r.out, r.err)
	}
	if got, _ := c.Kubectl(t.Context(), "-n", "podinfo", "get", "deployment", "redis", "-o", "jsonpath={.spec.replicas}"); got != "2" {
		t.Errorf("the refused deploy changed redis to %s replicas", got)
	}
	if r := cli("apply", "--path", "clusters/staging", "--kubeconfig", c.Kubeconfig, "--allow-rollback"); r.code != exitOK {
		t.Fatalf("--allow-rollback: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

// checkout checks out rev in the worktree at dir (detached).
func checkout(t *testing.T, dir, rev string) {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: *h, Force: true}); err != nil {
		t.Fatal(err)
	}
}

func decodeDiff(t *testing.T, r cliResult, code int) *diff.Result {
	t.Helper()
	var res diff.Result
	if r.code != code || json.Unmarshal([]byte(r.out), &res) != nil {
		t.Fatalf("exit %d (want %d)\n%s\n%s", r.code, code, r.out, r.err)
	}
	return &res
}

func changedPaths(cds []*diff.ClusterDiff) string {
	var out []string
	for _, cd := range cds {
		if cd.Action != diff.Unchanged {
			out = append(out, cd.Path)
		}
	}
	return strings.Join(out, ",")
}

func findCluster(t *testing.T, cds []*diff.ClusterDiff, path string) *diff.ClusterDiff {
	t.Helper()
	for _, cd := range cds {
		if cd.Path == path {
			return cd
		}
	}
	t.Fatalf("no cluster path %s in the diff", path)
	return nil
}

func wantObject(t *testing.T, cd *diff.ClusterDiff, kind, name string, action diff.Action) {
	t.Helper()
	for _, kd := range cd.Kustomizations {
		for _, od := range kd.Objects {
			if od.ID.Kind == kind && od.ID.Name == name {
				if od.Action != action {
					t.Errorf("%s: %s/%s is %s, want %s", cd.Path, kind, name, od.Action, action)
				}
				return
			}
		}
	}
	t.Errorf("%s: %s/%s not in the diff (want %s)", cd.Path, kind, name, action)
}

func findRelease(t *testing.T, cd *diff.ClusterDiff, name string) *diff.ReleaseDiff {
	t.Helper()
	for _, kd := range cd.Kustomizations {
		for _, rd := range kd.Releases {
			if rd.Ref.Name == name {
				return rd
			}
		}
	}
	t.Fatalf("%s: HelmRelease %s not in the diff", cd.Path, name)
	return nil
}
