package report_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
	"github.com/slipwayhq/slipway/internal/testutil/browser"
)

// Repository content that would run, load or retitle the page if it
// reached it as markup: in a ConfigMap value and in a file name.
const (
	hostileValue = `</pre></details><script>document.title="pwned"</script><img src="http://evil.example/x.png">`
	hostileFile  = `apps/staging/evil"><img src=x onerror="document.title='pwned'">.yaml`
)

// fleetChange commits the example fleet, then a change a pull request
// could make: a changed Deployment (both cluster paths), a changed
// HelmRelease, a removed object, one removed but kept (prune disabled),
// and a hostile ConfigMap in a hostile
// file. It returns the diff slipway computes for it.
func fleetChange(t *testing.T) *diff.Result {
	t.Helper()
	root := testutil.RepoRoot(t)
	g := testutil.NewGitRepo(t, filepath.Join(root, "testdata", "fleet"), "https://example.com/fleet")
	base := g.Commit("base")
	edit := func(rel, old, new string) {
		data, err := os.ReadFile(filepath.Join(g.Dir, rel))
		if err != nil || !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%s lacks %q (%v)", rel, old, err)
		}
		g.Write(rel, strings.Replace(string(data), old, new, 1))
	}
	edit("apps/base/redis/deployment.yaml", "replicas: 1", "replicas: 3")
	edit("apps/staging/kustomization.yaml", "  - ingress.yaml\n", "")
	edit("apps/staging/greeter.yaml", "replicaCount: 1", "replicaCount: 2")
	edit("apps/staging/kustomization.yaml", "  - redis-seed.yaml\n", "  - '"+strings.ReplaceAll(strings.TrimPrefix(hostileFile, "apps/staging/"), "'", "''")+"'\n")
	g.Write(hostileFile, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hostile\n  namespace: podinfo\ndata:\n  value: '"+hostileValue+"'\n")
	head := g.Commit("head")
	dec, err := build.NewDecryptorFromFile(filepath.Join(root, "testdata", "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := diff.Run(context.Background(), diff.RunOptions{RepoDir: g.Dir, Base: base.String(), Head: head.String(),
		BuildOptions: func(repo *source.Repository) build.Options {
			o := build.DefaultOptions(repo)
			o.Decryptor = dec
			return o
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasErrors() {
		var b strings.Builder
		_ = report.DiffText(&b, res, report.DiffTextOptions{})
		t.Fatalf("the change does not build:\n%s", b.String())
	}
	return res
}

// writePage renders a report into a file and returns its file:// URL.
func writePage(t *testing.T, opts report.HTMLOptions) (path, pageURL string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "report.html")
	var b bytes.Buffer
	if err := report.HTML(&b, opts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, (&url.URL{Scheme: "file", Path: path}).String()
}

// assertQuiet fails on any console error, exception or CSP violation, and
// on any request but the page itself.
func assertQuiet(t *testing.T, p *browser.Page, pageURL string) {
	t.Helper()
	for _, pr := range p.Problems() {
		t.Errorf("browser reported: %s", pr)
	}
	for _, r := range p.Requests() {
		if r != pageURL {
			t.Errorf("the page made a request: %s", r)
		}
	}
}

type pageFacts struct {
	Title       string   `json:"title"`
	Scripts     int      `json:"scripts"`
	Images      int      `json:"images"`
	Sections    []string `json:"sections"`
	Clusters    []string `json:"clusters"`
	Units       []string `json:"units"`
	AddLines    int      `json:"addLines"`
	AddColour   string   `json:"addColour"`
	DiffVisible bool     `json:"diffVisible"`
	ToolsShown  bool     `json:"toolsShown"`
	Text        string   `json:"text"`
	Errors      []string `json:"errors"`
}

const factsJS = `(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const add = document.querySelector("pre.diff .add");
  const pre = document.querySelector("pre.diff");
  return {
    title: document.title,
    scripts: document.scripts.length,
    images: document.images.length,
    sections: q("main > section").map((s) => s.id),
    clusters: q("details.cluster").map((d) => d.dataset.path),
    units: q("details.unit").map((d) => d.dataset.kind + " " + d.dataset.name),
    addLines: q("pre.diff .add").length,
    addColour: add ? getComputedStyle(add).backgroundColor : "",
    diffVisible: !!pre && pre.getBoundingClientRect().height > 0,
    toolsShown: !document.getElementById("tools").hidden,
    text: document.body.innerText,
    errors: q("li.finding.sev-error").map((li) => li.innerText),
  };
})()`

// TestHTMLReportInChromium renders a real diff of the example fleet,
// hostile content included, and opens it in headless Chromium: the
// sections are there, the diff is coloured (the inline style passed the
// policy), the script works, hostile markup stayed text, nothing was
// requested and the console is clean; and without JavaScript the report
// is whole.
func TestHTMLReportInChromium(t *testing.T) {
	chromium := browser.Chromium(t, os.Getenv)
	res := fleetChange(t)
	_, pageURL := writePage(t, report.HTMLOptions{Diff: res})

	p := browser.Open(t, chromium, pageURL, browser.Options{})
	var f pageFacts
	p.Eval(t, factsJS, &f)
	if f.Title != "slipway diff" || f.Scripts != 1 || f.Images != 0 {
		t.Errorf("title %q, %d scripts, %d images: hostile markup reached the page", f.Title, f.Scripts, f.Images)
	}
	for _, want := range []string{"summary", "deletions", "kept", "clusters"} {
		if !slices.Contains(f.Sections, want) {
			t.Errorf("sections %v lack %q", f.Sections, want)
		}
	}
	if !slices.Equal(f.Clusters, []string{"clusters/production", "clusters/staging"}) {
		t.Errorf("cluster sections: %v", f.Clusters)
	}
	for _, want := range []string{"Kustomization flux-system/apps", "HelmRelease podinfo/greeter"} {
		if !slices.Contains(f.Units, want) {
			t.Errorf("units %v lack %q", f.Units, want)
		}
	}
	for _, want := range []string{hostileValue, `evil"><img src=x onerror="document.title='pwned'">.yaml`, "+  replicas: 3", "-  replicas: 1", "Ingress/podinfo/podinfo", "ConfigMap/podinfo/redis-seed"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if f.AddLines == 0 || f.AddColour != "rgb(218, 251, 225)" {
		t.Errorf("%d added lines, coloured %q: the stylesheet did not apply", f.AddLines, f.AddColour)
	}
	if !f.ToolsShown {
		t.Error("the script did not run: the expand/collapse buttons stayed hidden")
	}
	var open int
	p.Click(t, "#collapse-all")
	p.Eval(t, `document.querySelectorAll("details[open]").length`, &open)
	if open != 0 {
		t.Errorf("collapse all left %d sections open", open)
	}
	p.Click(t, "#expand-all")
	p.Eval(t, `document.querySelectorAll("details:not([open])").length`, &open)
	if open != 0 {
		t.Errorf("expand all left %d sections closed", open)
	}
	p.KeepScreenshot(t, "diff-report.png")
	assertQuiet(t, p, pageURL)

	t.Run("without JavaScript", func(t *testing.T) {
		p := browser.Open(t, chromium, pageURL, browser.Options{NoJavaScript: true})
		var f pageFacts
		p.Eval(t, factsJS, &f)
		if f.ToolsShown || !f.DiffVisible || !strings.Contains(f.Text, "+  replicas: 3") {
			t.Errorf("without JavaScript: tools shown %v, diff visible %v", f.ToolsShown, f.DiffVisible)
		}
		assertQuiet(t, p, pageURL)
	})
}

// TestValidateHTMLReportInChromium opens the validate report of a broken
// repository: findings with file:line under their Kustomization.
func TestValidateHTMLReportInChromium(t *testing.T) {
	chromium := browser.Chromium(t, os.Getenv)
	repo := filepath.Join(testutil.RepoRoot(t), "testdata", "broken", "unknown-field", "repo")
	_, builds := testutil.Validate(t, repo, testutil.BuildOptions{}, "")
	if c := report.Count(builds); c.Errors == 0 {
		t.Fatal("the broken repository has no errors")
	}
	_, pageURL := writePage(t, report.HTMLOptions{Builds: builds})
	p := browser.Open(t, chromium, pageURL, browser.Options{})
	var f pageFacts
	p.Eval(t, factsJS, &f)
	if f.Title != "slipway validate" || !slices.Contains(f.Sections, "validation") || !slices.Equal(f.Clusters, []string{"clusters/dev"}) {
		t.Errorf("title %q, sections %v, clusters %v", f.Title, f.Sections, f.Clusters)
	}
	found := false
	for _, e := range f.Errors {
		if strings.Contains(e, "apps/dev/deployment.yaml:") && strings.Contains(e, "[schema]") && strings.Contains(e, ".spec.replica") {
			found = true
		}
	}
	if !found {
		t.Errorf("no schema error with its file and line among %q", f.Errors)
	}
	p.KeepScreenshot(t, "validate-report.png")
	assertQuiet(t, p, pageURL)
}
