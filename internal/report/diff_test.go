package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
)

func sampleDiff() *diff.Result {
	return &diff.Result{Base: "main", Head: "", Clusters: []*diff.ClusterDiff{{
		Path: "clusters/a", Action: diff.Changed, Counts: diff.Counts{Changed: 1, Removed: 1},
		Kustomizations: []*diff.KustomizationDiff{{
			Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Action: diff.Changed,
			Objects: []*diff.ObjectDiff{
				{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "x"}, Action: diff.Changed,
					Diff: "--- base\n+++ head\n@@ -1 +1 @@\n-a: 1\n+a: 2\n" + strings.Repeat("+padding line of a large diff\n", 40)},
				{ID: result.ObjectID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "r"}, Action: diff.Removed,
					Diff: "--- base\n+++ head\n@@ -1 +0,0 @@\n-kind: ClusterRole\n"},
			},
		}},
	}}}
}

func TestDiffTextColour(t *testing.T) {
	var plain, colour bytes.Buffer
	if err := DiffText(&plain, sampleDiff(), DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := DiffText(&colour, sampleDiff(), DiffTextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("plain output has escape codes:\n%q", plain.String())
	}
	for _, want := range []string{ansiGreen + "+a: 2" + ansiReset, ansiRed + "-a: 1" + ansiReset} {
		if !strings.Contains(colour.String(), want) {
			t.Errorf("coloured output lacks %q:\n%q", want, colour.String())
		}
	}
	if !strings.Contains(plain.String(), "► ClusterRole/r removed") {
		t.Errorf("plain output:\n%s", plain.String())
	}
}

func TestDiffMarkdownShape(t *testing.T) {
	var b bytes.Buffer
	if err := DiffMarkdown(&b, sampleDiff(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"`main` → `worktree`", "| `clusters/a` | changed | 0 | 1 | 1 | 0 |", "**Deletions**", "`ClusterRole/r`",
		"<details><summary>Kustomization <code>flux-system/apps</code> changed", "```diff\n--- base"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	// Under pressure the RBAC deletion is kept, the ConfigMap diff cut.
	b.Reset()
	full := len(out)
	if err := DiffMarkdown(&b, sampleDiff(), MarkdownOptions{MaxBytes: full - 20}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > full-20 || !strings.Contains(b.String(), "-kind: ClusterRole") || strings.Contains(b.String(), "+a: 2") {
		t.Errorf("cut markdown (%d bytes):\n%s", b.Len(), b.String())
	}
}
