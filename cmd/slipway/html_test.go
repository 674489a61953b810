package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// -o html through the CLI: diff writes one page with the change, validate
// one with the findings; both declare their Content-Security-Policy. The
// page itself is tested in a browser in internal/report.
func TestHTMLOutput(t *testing.T) {
	_, key := fleet(t)
	dir := committedFleet(t)
	editFile(t, filepath.Join(dir, "apps/base/redis/deployment.yaml"), "replicas: 1", "replicas: 2")
	out := filepath.Join(t.TempDir(), "diff.html")
	r := runCLI(t, nil, "diff", "--repo", dir, "--base", "HEAD", "--sops-age-key-file", key, "-o", "html", "--output-file", out)
	page, _ := os.ReadFile(out)
	if r.code != 0 || r.out != "" {
		t.Fatalf("diff -o html: exit %d, stdout %q\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{`<meta http-equiv="Content-Security-Policy"`, `data-path="clusters/staging"`, `<span class="add">&#43;  replicas: 2</span>`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("diff page lacks %q", want)
		}
	}

	broken := filepath.Join(testutil.RepoRoot(t), "testdata", "broken", "unknown-field", "repo")
	r = runCLI(t, nil, "validate", "--repo", broken, "-o", "html")
	if r.code != exitFailed || !strings.Contains(r.out, `<li class="finding sev-error">`) || !strings.Contains(r.out, "apps/dev/deployment.yaml:") {
		t.Errorf("validate -o html: exit %d\n%s", r.code, r.out)
	}
	if r = runCLI(t, nil, "validate", "--repo", broken, "-o", "pdf"); r.code != exitUsage {
		t.Errorf("-o pdf: exit %d, want %d", r.code, exitUsage)
	}
}
