package action

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/testutil"
	"github.com/slipwayhq/slipway/internal/testutil/browser"
)

// prReport is a pull request's report of a cluster path: infra unchanged,
// apps changed with one of its two HelmReleases, a suspended
// Kustomization, one failing to build, and a Kustomization (with its
// HelmRelease) the change removes.
func prReport() *pathReport {
	ref := func(ns, name string) result.KustomizationRef {
		return result.KustomizationRef{Namespace: ns, Name: name}
	}
	infra, apps, paused, broken, old := ref("flux-system", "infra"), ref("flux-system", "apps"), ref("flux-system", "paused"), ref("flux-system", "broken"), ref("flux-system", "old")
	db, web, legacy := ref("shop", "db"), ref("shop", "web"), ref("shop", "legacy")
	return &pathReport{
		path: "clusters/prod",
		build: &result.ClusterBuild{Path: "clusters/prod", Kustomizations: []*result.KustomizationBuild{
			{Ref: infra},
			{Ref: apps, DependsOn: []result.KustomizationRef{infra}, Releases: []*result.ReleaseBuild{
				{Ref: db, DependsOn: []result.KustomizationRef{infra}},
				{Ref: web, DependsOn: []result.KustomizationRef{db}},
			}},
			{Ref: paused, Suspended: true},
			{Ref: broken, DependsOn: []result.KustomizationRef{infra}},
		}, Findings: []result.Finding{{Severity: result.SeverityError, Check: "build", Kustomization: &broken, Message: "no such path"}}},
		diff: &DiffResult{Path: "clusters/prod", Changed: true, Result: &diff.Result{Clusters: []*diff.ClusterDiff{{
			Path: "clusters/prod", Action: diff.Changed,
			Kustomizations: []*diff.KustomizationDiff{
				{Ref: apps, Action: diff.Changed, Releases: []*diff.ReleaseDiff{{Ref: web, Action: diff.Changed}, {Ref: db, Action: diff.Unchanged}}},
				{Ref: broken, Action: diff.Failed},
				{Ref: old, Action: diff.Removed, Releases: []*diff.ReleaseDiff{{Ref: legacy, Action: diff.Removed}}},
			},
		}}}},
	}
}

// On a pull request the graph says what the change does to each node.
func TestGraphMarksPullRequestChanges(t *testing.T) {
	g := kustomizationGraph(prReport())
	testutil.Golden(t, filepath.Join("testdata", "graph-pr.md"), g)
	for _, want := range []string{
		"class k1,h1 changed",   // apps and web
		"class k0,h0 unchanged", // infra, and db inside the changed apps
		"class k3 failed", "class k2 skipped",
		`x0["flux-system/old (removed)"]`, `x1(["HelmRelease shop/legacy (removed)"])`, "x0 -.- x1", "class x0,x1 removed",
		"classDef changed ", "Blue, thick border: changed by this pull request",
	} {
		if !strings.Contains(g, want) {
			t.Errorf("graph lacks %q:\n%s", want, g)
		}
	}
	// Without a diff (a push), the graph shows outcomes as before.
	pr := prReport()
	pr.diff = nil
	if g := kustomizationGraph(pr); !strings.Contains(g, "class k0,k1,h0,h1 ok") || strings.Contains(g, "changed by this pull request") {
		t.Errorf("outcome graph:\n%s", g)
	}
}

// mermaidScript is Mermaid's browser build, installed by `npm ci` in
// hack/browser (never fetched at test time).
func mermaidScript(t *testing.T) string {
	t.Helper()
	p := filepath.Join(testutil.RepoRoot(t), "hack", "browser", "node_modules", "mermaid", "dist", "mermaid.min.js")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s is missing: run npm ci in hack/browser", p)
		}
		t.Skipf("%s is missing (cd hack/browser && npm ci)", p)
	}
	return p
}

type renderedNode struct {
	Class string `json:"class"`
	Text  string `json:"text"`
}

// renderMermaid renders a graph with Mermaid in headless Chromium, as
// GitHub renders a check run's mermaid block, and returns its nodes.
func renderMermaid(t *testing.T, graph string) []renderedNode {
	t.Helper()
	chromium := browser.Chromium(t, os.Getenv)
	script := mermaidScript(t)
	page := filepath.Join(t.TempDir(), "graph.html")
	html := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>graph</title><script src="` +
		(&url.URL{Scheme: "file", Path: script}).String() + `"></script></head><body><div id="out"></div></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	p := browser.Open(t, chromium, (&url.URL{Scheme: "file", Path: page}).String(), browser.Options{})
	src, _ := json.Marshal(graph)
	var nodes []renderedNode
	p.Eval(t, `(async () => {
  mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
  const {svg} = await mermaid.render("graph", `+string(src)+`);
  document.getElementById("out").innerHTML = svg;
  return Array.from(document.querySelectorAll("#out g.node")).map((n) => ({class: n.getAttribute("class"), text: n.textContent}));
})()`, &nodes)
	for _, pr := range p.Problems() {
		t.Errorf("browser reported: %s", pr)
	}
	p.KeepScreenshot(t, "graph.png")
	return nodes
}

// The graph of a pull request renders in Mermaid with every node in its
// class.
func TestGraphRendersInMermaid(t *testing.T) {
	g := kustomizationGraph(prReport())
	start := strings.Index(g, "```mermaid\n")
	end := strings.LastIndex(g, "```\n")
	if start < 0 || end <= start {
		t.Fatalf("no mermaid block:\n%s", g)
	}
	nodes := renderMermaid(t, g[start+len("```mermaid\n"):end])
	want := map[string]string{
		"flux-system/infra": "unchanged", "flux-system/apps": "changed", "HelmRelease shop/web": "changed",
		"HelmRelease shop/db": "unchanged", "flux-system/paused": "skipped", "flux-system/broken": "failed",
		"flux-system/old (removed)": "removed", "HelmRelease shop/legacy (removed)": "removed",
	}
	if len(nodes) != len(want) {
		t.Errorf("rendered %d nodes, want %d: %+v", len(nodes), len(want), nodes)
	}
	for _, n := range nodes {
		class, ok := want[strings.TrimSpace(n.Text)]
		if !ok {
			t.Errorf("unexpected node %q", n.Text)
			continue
		}
		if !strings.Contains(" "+n.Class+" ", " "+class+" ") {
			t.Errorf("node %q has classes %q, want %q", n.Text, n.Class, class)
		}
	}
}
