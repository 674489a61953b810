package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/slipwayhq/slipway/internal/images"
)

// capsRepo is a one-cluster repository whose HelmRelease renders a chart
// of the repository itself that branches on .Capabilities.APIVersions,
// next to a plain Deployment: committed once, as Git repository.
func capsRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"clusters/x/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, ref: {branch: main}, url: https://example.invalid/fleet}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 10m, path: ./clusters/x, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
`,
		"clusters/x/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
`,
		"apps/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n",
		"apps/worker.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: web}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec: {containers: [{name: w, image: "busybox:1.36"}]}
`,
		"apps/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: caps, namespace: web}
spec:
  interval: 10m
  chart:
    spec:
      chart: charts/caps
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
`,
		"charts/caps/Chart.yaml": "apiVersion: v2\nname: caps\nversion: 1.0.0\n",
		"charts/caps/templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  selector: {matchLabels: {app: caps}}
  template:
    metadata: {labels: {app: caps}}
    spec: {containers: [{name: c, image: "nginx:1.27"}]}
`,
		"charts/caps/templates/monitor.yaml": `{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: {{ .Release.Name }}}
spec: {selector: {matchLabels: {app: caps}}, endpoints: [{port: http}]}
{{- end }}
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, dir, "base")
	return dir
}

// TestReviewCommands: --api-versions reaches the chart's Capabilities;
// --kustomization/--helmrelease restrict build, validate, images and diff
// (an unknown name is a usage error); build --revision builds a commit,
// not the worktree; images lists per unit and as a matrix.
func TestReviewCommands(t *testing.T) {
	dir := capsRepo(t)
	cache := t.TempDir()
	cli := func(args ...string) cliResult {
		t.Helper()
		return runCLI(t, nil, append(args, "--repo", dir, "--cache-dir", cache)...)
	}

	r := cli("build")
	if r.code != 0 || strings.Contains(r.out, "kind: ServiceMonitor") {
		t.Fatalf("without --api-versions: exit %d, a ServiceMonitor rendered? \n%s\n%s", r.code, r.out, r.err)
	}
	r = cli("build", "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
	if r.code != 0 || !strings.Contains(r.out, "kind: ServiceMonitor") {
		t.Fatalf("with --api-versions: exit %d, no ServiceMonitor\n%s\n%s", r.code, r.out, r.err)
	}

	r = cli("build", "--helmrelease", "web/caps")
	if r.code != 0 || !strings.Contains(r.out, "name: caps") || strings.Contains(r.out, "name: worker") || strings.Contains(r.out, "kind: Namespace") {
		t.Errorf("build --helmrelease web/caps: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = cli("build", "--kustomization", "flux-system/apps")
	if r.code != 0 || !strings.Contains(r.out, "name: worker") || strings.Contains(r.out, "# Kustomization: flux-system/flux-system") {
		t.Errorf("build --kustomization flux-system/apps: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, args := range [][]string{
		{"build", "--kustomization", "flux-system/nope"},
		{"validate", "--helmrelease", "web/nope"},
		{"images", "--helmrelease", "nope"},
		{"diff", "--base", "HEAD", "--kustomization", "flux-system/nope"},
	} {
		if r = cli(args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d (usage)\n%s", args, r.code, exitUsage, r.err)
		}
	}
	if r = cli("validate", "--kustomization", "flux-system/apps"); r.code != 0 {
		t.Errorf("validate --kustomization: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	r = cli("images", "-o", "json")
	var list images.List
	if r.code != 0 || json.Unmarshal([]byte(r.out), &list) != nil {
		t.Fatalf("images -o json: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if strings.Join(list.Images, ",") != "busybox:1.36,nginx:1.27" || len(list.Clusters) != 1 || len(list.Clusters[0].Units) != 2 {
		t.Errorf("images: %+v", list)
	}
	r = cli("images", "--helmrelease", "web/caps")
	if r.code != 0 || !strings.Contains(r.out, "• HelmRelease web/caps (in Kustomization flux-system/apps)\n    nginx:1.27\n") || strings.Contains(r.out, "busybox") {
		t.Errorf("images --helmrelease: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	// The worktree moves on; --revision HEAD still builds the commit.
	editFile(t, filepath.Join(dir, "apps/worker.yaml"), "busybox:1.36", "busybox:1.37")
	if r = cli("build", "--revision", "HEAD"); r.code != 0 || !strings.Contains(r.out, "busybox:1.36") {
		t.Errorf("build --revision HEAD: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r = cli("build"); r.code != 0 || !strings.Contains(r.out, "busybox:1.37") {
		t.Errorf("build of the worktree: exit %d\n%s", r.code, r.err)
	}
	if r = cli("build", "--revision", "no-such-branch"); r.code != exitFailed || !strings.Contains(r.err, `revision "no-such-branch"`) {
		t.Errorf("a bad revision: exit %d\n%s", r.code, r.err)
	}
	// The diff, restricted to the HelmRelease, does not see the worker's
	// image bump; unrestricted it does.
	if r = cli("diff", "--base", "HEAD", "--helmrelease", "web/caps", "--exit-code"); r.code != 0 {
		t.Errorf("diff --helmrelease: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r = cli("diff", "--base", "HEAD", "--exit-code"); r.code != exitChanges || !strings.Contains(r.out, "image updated busybox:1.36 → busybox:1.37 (Kustomization flux-system/apps)") {
		t.Errorf("diff: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
