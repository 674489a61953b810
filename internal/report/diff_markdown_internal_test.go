package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
)

// Objects removed but left in the cluster are listed apart from deletions.
func TestRemovalsSeparatesKeptFromDeleted(t *testing.T) {
	ref := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	d := &diff.Result{Clusters: []*diff.ClusterDiff{{
		Path: "clusters/prod", Action: diff.Changed,
		Kustomizations: []*diff.KustomizationDiff{{
			Ref: ref, Action: diff.Changed,
			Objects: []*diff.ObjectDiff{
				{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "gone"}, Action: diff.Removed},
				{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "orphan"}, Action: diff.Removed, Kept: "prune: disabled"},
				{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "new"}, Action: diff.Added},
			},
			Releases: []*diff.ReleaseDiff{{Ref: result.KustomizationRef{Namespace: "a", Name: "db"}, Action: diff.Removed}},
		}},
	}}}
	deletions, kept := removals(d)
	if len(deletions) != 2 || !strings.Contains(deletions[0], "HelmRelease `a/db` removed") || !strings.Contains(deletions[1], "gone") {
		t.Errorf("deletions = %q", deletions)
	}
	if len(kept) != 1 || !strings.Contains(kept[0], "orphan") || !strings.Contains(kept[0], "prune: disabled") {
		t.Errorf("kept = %q", kept)
	}
}

// The deletion list gets half the budget; what does not fit is counted.
func TestWriteDeletionsStaysInHalfTheBudget(t *testing.T) {
	var lines []string
	for range 50 {
		lines = append(lines, "- `clusters/prod`: `v1/ConfigMap a/x` (Kustomization `flux-system/apps`)")
	}
	var b strings.Builder
	writeDeletions(&b, lines, 1000)
	out := b.String()
	if !strings.Contains(out, "… and ") {
		t.Errorf("no count of the deletions left out:\n%s", out)
	}
	if shown := strings.Count(out, "ConfigMap a/x"); shown == 0 || shown*len(lines[0]) > 500 {
		t.Errorf("%d deletions shown in a budget of 1000", shown)
	}
}

func TestWriteCalloutWritesNothingWithoutLines(t *testing.T) {
	var b strings.Builder
	writeCallout(&b, "> [!NOTE]\n", nil)
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
	writeCallout(&b, "> [!NOTE]\n", []string{"- a", "- b"})
	if got := strings.Split(strings.TrimSpace(b.String()), "\n"); !slices.Equal(got, []string{"> [!NOTE]", "> - a", "> - b"}) {
		t.Errorf("callout = %q", got)
	}
}
