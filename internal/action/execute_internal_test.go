package action

import (
	"slices"
	"testing"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/result"
)

func paths(reports []*pathReport) (all, selected []string) {
	for _, pr := range reports {
		all = append(all, pr.path)
		if pr.selected {
			selected = append(selected, pr.path)
		}
	}
	return all, selected
}

// Paths given outside clusters/ are validated too, after those under it.
func TestNewReportsCoversEveryPath(t *testing.T) {
	reports := newReports([]string{"clusters/a", "clusters/b"}, []string{"clusters/b", "edge/c"})
	all, selected := paths(reports)
	if want := []string{"clusters/a", "clusters/b", "edge/c"}; !slices.Equal(all, want) {
		t.Errorf("paths = %v, want %v", all, want)
	}
	if want := []string{"clusters/b", "edge/c"}; !slices.Equal(selected, want) {
		t.Errorf("selected = %v, want %v", selected, want)
	}
}

func TestFromCheckoutSkipsTargetsAndRefused(t *testing.T) {
	reports := []*pathReport{
		{path: "clusters/a"},
		{path: "clusters/b"},
		{path: "clusters/c", notDeployed: "no such revision"},
	}
	got := fromCheckout(reports, map[string]string{"clusters/b": "0123abcd"})
	if want := []string{"clusters/a"}; !slices.Equal(got, want) {
		t.Errorf("fromCheckout = %v, want %v", got, want)
	}
}

func TestAttachBuildsIgnoresUnknownPaths(t *testing.T) {
	reports := []*pathReport{{path: "clusters/a"}}
	a := &result.ClusterBuild{Path: "clusters/a"}
	attachBuilds(reports, []*result.ClusterBuild{a, {Path: "clusters/gone"}})
	if reports[0].build != a {
		t.Errorf("clusters/a got %v", reports[0].build)
	}
}

func TestConclude(t *testing.T) {
	changedDeploy := &result.ClusterDeploy{Kustomizations: []*result.KustomizationDeploy{{Changes: []result.Change{{Action: result.ActionCreated}}}}}
	tests := []struct {
		name        string
		reports     []*pathReport
		want        github.Conclusion
		wantChanged bool
	}{
		{"nothing", []*pathReport{{path: "a"}}, github.ConclusionSuccess, false},
		{"refused path fails", []*pathReport{{path: "a"}, {path: "b", notDeployed: "connecting"}}, github.ConclusionFailure, false},
		{"diff changed", []*pathReport{{path: "a", diff: &DiffResult{Changed: true}}}, github.ConclusionSuccess, true},
		{"deploy changed", []*pathReport{{path: "a", deploy: changedDeploy}}, github.ConclusionSuccess, true},
	}
	for _, tt := range tests {
		got, changed := conclude(tt.reports)
		if got != tt.want || changed != tt.wantChanged {
			t.Errorf("%s: conclude = %s, %v; want %s, %v", tt.name, got, changed, tt.want, tt.wantChanged)
		}
	}
}
