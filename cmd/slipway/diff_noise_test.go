package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/images"
)

// TestDiffNoiseAndImages: through the CLI, churn (a checksum annotation
// on a Pod template) is stripped by default and shown when the defaults
// are turned off; skipped kinds are not compared; an image bump is an
// image change, first in the comment; a bad pattern is a usage error.
func TestDiffNoiseAndImages(t *testing.T) {
	_, key := fleet(t)
	dir := committedFleet(t)
	cache := t.TempDir()
	diffArgs := func(extra ...string) []string {
		return append([]string{"diff", "--repo", dir, "--base", "HEAD", "--path", "clusters/staging", "--sops-age-key-file", key, "--cache-dir", cache, "--exit-code"}, extra...)
	}
	deployment := filepath.Join(dir, "apps/base/redis/deployment.yaml")
	editFile(t, deployment, "  template:\n    metadata:\n", "  template:\n    metadata:\n      annotations:\n        checksum/config: abc123\n")

	r := runCLI(t, nil, diffArgs("-o", "json")...)
	res := decodeDiff(t, r, exitOK)
	if res.Ignored == nil || !strings.Contains(strings.Join(res.Ignored.StripAnnotations, ","), "checksum/*") {
		t.Errorf("the result does not say what was stripped: %+v", res.Ignored)
	}
	r = runCLI(t, nil, diffArgs("-o", "json", "--strip-annotations=")...)
	res = decodeDiff(t, r, exitChanges)
	wantObject(t, findCluster(t, res.Clusters, "clusters/staging"), "Deployment", "redis", diff.Changed)
	r = runCLI(t, nil, diffArgs("-o", "json", "--strip-annotations=", "--skip-kinds", "Deployment,Secret")...)
	if res = decodeDiff(t, r, exitOK); res.Ignored.Skipped == 0 {
		t.Errorf("skipped kinds not counted: %+v", res.Ignored)
	}

	editFile(t, deployment, "redis:7.4.1-alpine", "redis:7.4.2-alpine")
	r = runCLI(t, nil, diffArgs("-o", "json")...)
	res = decodeDiff(t, r, exitChanges)
	got := res.ImageChanges()
	if len(got) == 0 || got[0].Action != images.Updated || got[0].From != "docker.io/library/redis:7.4.1-alpine" || got[0].To != "docker.io/library/redis:7.4.2-alpine" {
		t.Errorf("image changes = %+v, want redis updated 7.4.1 → 7.4.2", got)
	}
	r = runCLI(t, nil, diffArgs("-o", "markdown", "--unified", "0")...)
	img, yaml := strings.Index(r.out, "#### Image changes"), strings.Index(r.out, "```diff")
	if r.code != exitChanges || img < 0 || yaml < img {
		t.Errorf("markdown: exit %d, image changes at %d, first diff at %d:\n%s", r.code, img, yaml, r.out)
	}
	if strings.Contains(r.out, "imagePullPolicy") {
		t.Errorf("--unified 0 still shows unchanged lines:\n%s", r.out)
	}
	r = runCLI(t, nil, diffArgs("--strip-labels", "[")...)
	if r.code != exitUsage {
		t.Errorf("a malformed pattern: exit %d, want %d\n%s", r.code, exitUsage, r.err)
	}
}
