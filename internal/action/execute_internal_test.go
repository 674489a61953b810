package action

import (
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/validate"
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

// Errors outside any Kustomization: the action records the very result
// the CLI's apply records (validate.NotDeployed, a ClusterDeploy failed
// with ReasonValidationFailed), its check run fails, and its summary says
// "not deployed: …" once, with no deploy timing for a deploy that did not
// run.
func TestUnownedErrorsGiveTheCLIResult(t *testing.T) {
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	newBuild := func() *result.ClusterBuild {
		return &result.ClusterBuild{Path: "clusters/prod", Kustomizations: []*result.KustomizationBuild{{Ref: apps}},
			Findings: []result.Finding{{Severity: result.SeverityError, Check: "build", ClusterPath: "clusters/prod", Message: "the cluster path builds no object"}}}
	}
	cliBuild := newBuild()
	cli := validate.NotDeployed(cliBuild.Path, validate.Gate(cliBuild)) // what cmd/slipway/apply.go records

	pr := &pathReport{path: "clusters/prod", selected: true, build: newBuild()}
	if gatePath(pr, true, report.NewMasker(nil)) {
		t.Fatal("a path with errors outside any Kustomization may be deployed")
	}
	got := pr.deploy
	if got == nil || got.Path != cli.Path || got.Reason != result.ReasonValidationFailed || got.Reason != cli.Reason ||
		got.Error != cli.Error || len(got.Kustomizations) != 0 || !got.Failed() {
		t.Fatalf("action %+v, CLI %+v", got, cli)
	}
	if !strings.HasPrefix(got.Error, "not deployed: 1 validation error(s) outside any Kustomization") {
		t.Errorf("error %q", got.Error)
	}
	if !pr.failed() {
		t.Error("the check run would not fail")
	}
	summary := pathSummary(pr, report.NewMasker(nil))
	if strings.Count(summary, "not deployed: 1 validation error(s)") != 1 || strings.Contains(summary, "API requests") {
		t.Errorf("summary:\n%s", summary)
	}

	// A live diff or validation only: nothing recorded, nothing deployed.
	dry := &pathReport{path: "clusters/prod", selected: true, build: newBuild()}
	if gatePath(dry, false, report.NewMasker(nil)) || dry.deploy != nil || dry.notDeployed != "" {
		t.Errorf("dry: %+v", dry)
	}
}
