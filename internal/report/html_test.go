package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/images"
	"github.com/slipwayhq/slipway/internal/result"
)

const hostile = `</code></pre><script>alert("pwned")</script><img src=x onerror=alert(1)>`

// hostileDiff is sampleDiff with repository content that is markup: in a
// ConfigMap value, a file name, a finding and a Kustomization error.
func hostileDiff() *diff.Result {
	d := sampleDiff()
	ks := d.Clusters[0].Kustomizations[0]
	ks.Objects[0].Diff += "+evil: " + hostile + "\n"
	ks.Objects[0].Origin = result.Origin{File: `apps/"><svg onload=alert(2)>.yaml`, Line: 3}
	d.Clusters[0].Errors = []diff.BuildError{{Revision: diff.RevisionHead, Finding: result.Finding{
		Severity: result.SeverityError, Check: "schema", Origin: result.Origin{File: "apps/<b>x</b>.yaml", Line: 15},
		Message: hostile,
	}}}
	d.Clusters[0].Kustomizations = append(d.Clusters[0].Kustomizations, &diff.KustomizationDiff{
		Ref: result.KustomizationRef{Namespace: "flux-system", Name: "broken"}, Action: diff.Failed, Error: hostile,
	})
	return d
}

func TestHTMLEscapesRepositoryContent(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, HTMLOptions{Diff: hostileDiff()}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("want only the page's own <script>, found %d", n)
	}
	for _, bad := range []string{"<img", "<svg", "<b>x", `"pwned")</script>`} {
		if strings.Contains(out, bad) {
			t.Errorf("repository markup %q reached the page unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;", "&lt;svg onload=alert(2)&gt;.yaml:3"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks the escaped text %q", want)
		}
	}
}

func TestHTMLShape(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, HTMLOptions{Diff: hostileDiff()}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<details class="cluster tone-warn" data-path="clusters/a" open>`,
		`data-kind="Kustomization" data-name="flux-system/apps" open>`,
		`<span class="add">&#43;a: 2</span>`, `<span class="del">-a: 1</span>`, `<span class="hunk">@@ -1 &#43;1 @@</span>`,
		`<section id="deletions"`, `ClusterRole/r (Kustomization flux-system/apps)`,
		`<section id="errors"`, `<code class="origin">apps/&lt;b&gt;x&lt;/b&gt;.yaml:15</code>`,
		`<span class="badge tone-error">failed</span> Kustomization <code class="name">flux-system/broken</code>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Nothing may be loaded: no URL-bearing attribute at all.
	if m := regexp.MustCompile(`(?i)<[a-z][^>]*\s(src|href|action|srcset|formaction)=`).FindString(out); m != "" {
		t.Errorf("page has a loading attribute %q", m)
	}
}

// The policy allows exactly the inline style and script the page has.
func TestHTMLContentSecurityPolicyMatchesInlineCode(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, HTMLOptions{Diff: sampleDiff()}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(out)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(out)
	if style == nil || script == nil {
		t.Fatal("page lacks its style or script")
	}
	csp := HTMLContentSecurityPolicy()
	for _, want := range []string{"default-src 'none'", "'" + cspHash(style[1]) + "'", "'" + cspHash(script[1]) + "'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`) {
		t.Error("page does not declare the policy")
	}
}

// Secret values are masked as the text renderers mask them: the builds'
// sensitive values and the caller's.
func TestHTMLMasksSecretValues(t *testing.T) {
	cb := &result.ClusterBuild{Path: "clusters/a", Sensitive: []string{"s3cr3t-build-value"},
		Kustomizations: []*result.KustomizationBuild{{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}}},
		Findings: []result.Finding{{Severity: result.SeverityError, Check: "substitution",
			Kustomization: &result.KustomizationRef{Namespace: "flux-system", Name: "apps"},
			Message:       "value s3cr3t-build-value and s3cr3t-caller-value, https://user:pa55word@example.com/x"}}}
	var b, text bytes.Buffer
	if err := HTML(&b, HTMLOptions{Builds: []*result.ClusterBuild{cb}, Masker: NewMasker([]string{"s3cr3t-caller-value"})}); err != nil {
		t.Fatal(err)
	}
	if err := FindingsText(&text, []*result.ClusterBuild{cb}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"s3cr3t-build-value", "s3cr3t-caller-value", "pa55word"} {
		if strings.Contains(b.String(), s) {
			t.Errorf("page shows the secret %q", s)
		}
	}
	if !strings.Contains(b.String(), "value "+Redacted+" and "+Redacted) || !strings.Contains(text.String(), "value "+Redacted) {
		t.Errorf("secret not replaced by %q:\n%s", Redacted, b.String())
	}
	// The failing Kustomization is open and red.
	if !strings.Contains(b.String(), `<details class="unit kind-Kustomization tone-error" data-kind="Kustomization" data-name="flux-system/apps" open>`) {
		t.Errorf("failing Kustomization not marked:\n%s", b.String())
	}
}

// BenchmarkHTML renders a diff in which every object of a 3×100×10 fleet
// changed (3,000 object diffs of 20 lines): the worst case of a report.
func BenchmarkHTML(b *testing.B) {
	d := &diff.Result{Base: "main", Head: "pr"}
	lines := "--- base\n+++ head\n@@ -1,20 +1,20 @@\n" + strings.Repeat(" context: line\n", 9) + "-a: 1\n+a: 2\n" + strings.Repeat(" context: line\n", 9)
	for c := 0; c < 3; c++ {
		cd := &diff.ClusterDiff{Path: fmt.Sprintf("clusters/c%d", c), Action: diff.Changed}
		for k := 0; k < 100; k++ {
			kd := &diff.KustomizationDiff{Ref: result.KustomizationRef{Namespace: "flux-system", Name: fmt.Sprintf("app-%03d", k)}, Action: diff.Changed}
			for o := 0; o < 10; o++ {
				kd.Objects = append(kd.Objects, &diff.ObjectDiff{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("cm-%d-%d", k, o)},
					Action: diff.Changed, Origin: result.Origin{File: "apps/base/configmap.yaml", Line: 1}, Diff: lines})
			}
			cd.Kustomizations = append(cd.Kustomizations, kd)
			cd.Counts.Changed += 10
		}
		d.Clusters = append(d.Clusters, cd)
	}
	m := NewMasker([]string{"some-secret-value", "another-secret"})
	var buf bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := HTML(&buf, HTMLOptions{Diff: d, Masker: m}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB/page")
}

// Drift (diff --live --base) is a group of its own after the changes, and
// revision expressions are shortened.
func TestHTMLDrift(t *testing.T) {
	d := sampleDiff()
	d.Base = strings.Repeat("a", 40) + "^1"
	d.DriftBase = strings.Repeat("b", 40)
	d.Drift = []*diff.ClusterDiff{{Path: "clusters/a", Action: diff.Changed, Counts: diff.Counts{Changed: 1},
		Kustomizations: []*diff.KustomizationDiff{{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Action: diff.Changed,
			Objects: []*diff.ObjectDiff{{ID: result.ObjectID{Kind: "Deployment", Namespace: "a", Name: "web"}, Action: diff.Changed,
				Diff: "--- base\n+++ head\n@@ -1 +1 @@\n-replicas: 2\n+replicas: 5\n"}}}}}}
	var b bytes.Buffer
	if err := HTML(&b, HTMLOptions{Diff: d}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`<code>aaaaaaaaaaaa^1 → worktree</code>`, `<section id="drift" class="group">`,
		"Drift: the cluster differs from what bbbbbbbbbbbb applied", `<span class="add">&#43;replicas: 5</span>`} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Index(out, `id="drift"`) < strings.Index(out, `id="clusters"`) {
		t.Error("drift comes before the changes")
	}
}

// Image changes come first, before the counts, as in the comment.
func TestHTMLImageChangesFirst(t *testing.T) {
	d := sampleDiff()
	d.Clusters[0].ImageChanges = []images.Change{
		{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Action: "updated", Repository: "docker.io/library/redis", From: "docker.io/library/redis:7.4.1", To: "docker.io/library/redis:7.4.2", Image: "docker.io/library/redis:7.4.2"},
		{Kind: "HelmRelease", Namespace: "web", Name: "web", Action: "added", Repository: "ghcr.io/acme/" + hostile, Image: "ghcr.io/acme/" + hostile},
	}
	var b bytes.Buffer
	if err := HTML(&b, HTMLOptions{Diff: d}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	images, summary := strings.Index(out, `<section id="images"`), strings.Index(out, `<section id="summary"`)
	if images < 0 || summary < 0 || images > summary {
		t.Fatalf("image changes at %d, summary at %d: want image changes first", images, summary)
	}
	for _, want := range []string{"docker.io/library/redis:7.4.1 → docker.io/library/redis:7.4.2", "HelmRelease web/web", ">added<"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(out, `alert("pwned")</script>`) {
		t.Error("an image name reached the page unescaped")
	}
}
