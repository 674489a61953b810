package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/images"
)

func imageDiff() *diff.Result {
	d := sampleDiff()
	d.Clusters[0].ImageChanges = []images.Change{
		{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Action: images.Updated, Repository: "nginx", From: "nginx:1.26", To: "nginx:1.27", Image: "nginx:1.27"},
		{Kind: "HelmRelease", Namespace: "web", Name: "podinfo", Action: images.Added, Repository: "redis", To: "redis:7", Image: "redis:7"},
	}
	noise := diff.DefaultNoise()
	noise.SkipKinds = []string{"Secret"}
	d.Ignored = &diff.Ignored{Noise: noise, Skipped: 2}
	return d
}

// TestImageChangesRendered: the comment shows image changes before any
// YAML diff and says what noise was ignored; text and JSON carry both.
func TestImageChangesRendered(t *testing.T) {
	var md bytes.Buffer
	if err := DiffMarkdown(&md, imageDiff(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	img := strings.Index(out, "#### Image changes")
	for _, want := range []string{"| `clusters/a` | Kustomization `flux-system/apps` | updated | `nginx:1.26` → `nginx:1.27` |",
		"| `clusters/a` | HelmRelease `web/podinfo` | added | `redis:7` |", "helm.sh/chart", "kinds Secret (2 object(s) not compared)"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if img < 0 || img > strings.Index(out, "| cluster path | status") || img > strings.Index(out, "```diff") {
		t.Errorf("image changes should come first, before the table and the diffs:\n%s", out)
	}

	var txt bytes.Buffer
	if err := DiffText(&txt, imageDiff(), DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  image updated nginx:1.26 → nginx:1.27 (Kustomization flux-system/apps)", "(ignored: labels helm.sh/chart"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}

	var js bytes.Buffer
	if err := DiffJSON(&js, imageDiff()); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Clusters []struct {
			ImageChanges []images.Change `json:"imageChanges"`
		} `json:"clusters"`
		Ignored *diff.Ignored `json:"ignored"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Clusters[0].ImageChanges) != 2 || back.Ignored == nil || back.Ignored.Skipped != 2 {
		t.Errorf("JSON lost image changes or the ignored noise: %s", js.String())
	}
}
