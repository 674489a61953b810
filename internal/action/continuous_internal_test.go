package action

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

func TestEnvironmentName(t *testing.T) {
	for _, tc := range []struct {
		spec, path, want, err string
	}{
		{"", "clusters/prod", "clusters/prod", ""},
		{"prod-{name}", "clusters/eu/prod", "prod-prod", ""},
		{"k8s {path}", "clusters/prod", "k8s clusters/prod", ""},
		{"clusters/prod=production\nclusters/staging=staging", "clusters/prod", "production", ""},
		{"clusters/prod=production", "clusters/dev", "clusters/dev", ""},
		{"clusters/prod=production, clusters/dev=", "clusters/dev", "", "want CLUSTER_PATH=ENVIRONMENT"},
		{strings.Repeat("x", 256), "clusters/prod", "", "want 1 to 255 characters"},
	} {
		got, err := environmentName(tc.spec, tc.path)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("environmentName(%q, %q) = %q, %v; want %q, %q", tc.spec, tc.path, got, err, tc.want, tc.err)
		}
	}
}

func TestDeploymentOutcome(t *testing.T) {
	ok := &result.ClusterDeploy{Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusApplied, Changes: []result.Change{
		{Action: result.ActionConfigured}, {Action: result.ActionUnchanged}, {Action: result.ActionCreated}}}}}
	failed := &result.ClusterDeploy{Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusFailed}}}
	for _, tc := range []struct {
		cd    *result.ClusterDeploy
		state github.DeploymentState
		desc  string
	}{
		{nil, github.DeploymentError, "not deployed"},
		{&result.ClusterDeploy{OutOfOrder: true, Error: "newer"}, github.DeploymentError, "newer commit"},
		{failed, github.DeploymentFailure, "failed"},
		{ok, github.DeploymentSuccess, "2 object(s) changed"},
	} {
		state, desc := deploymentOutcome(tc.cd)
		if state != tc.state || !strings.Contains(desc, tc.desc) {
			t.Errorf("%+v: %s %q", tc.cd, state, desc)
		}
	}
}

// The drift issue names the drifted objects and the run, never a secret
// value, and asks to be closed when the path is clean.
func TestDriftIssue(t *testing.T) {
	m := report.NewMasker([]string{"s3cret"})
	commit := strings.Repeat("b", 40)
	cd := &result.ClusterDeploy{Path: "clusters/a", Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusApplied, Changes: []result.Change{
		{ID: result.ObjectID{Kind: "Secret", Namespace: "app", Name: "db"}, Action: result.ActionConfigured, Message: "password was s3cret"}}}}}
	drifted := driftIssue(&pathReport{path: "clusters/a", selected: true, deploy: cd}, commit, "https://github.example/acme/fleet/actions/runs/7", m)
	if drifted.Body == "" || !strings.Contains(drifted.Body, "Secret/app/db") || !strings.Contains(drifted.Body, "actions/runs/7") ||
		!strings.Contains(drifted.Body, "reverted") || strings.Contains(drifted.Body, "s3cret") || drifted.Marker != github.CommentMarker("drift", "clusters/a") {
		t.Errorf("drifted issue: %+v", drifted)
	}
	dry := driftIssue(&pathReport{path: "clusters/a", selected: true, deploy: cd, dryRun: true}, commit, "", m)
	if !strings.Contains(dry.Body, "nothing was changed") {
		t.Errorf("drift mode issue: %s", dry.Body)
	}
	failed := driftIssue(&pathReport{path: "clusters/a", selected: true, notDeployed: "not deployed: commit bbbb is not in the local repository"}, commit, "", m)
	if !strings.Contains(failed.Body, "failed") || !strings.Contains(failed.Body, "not in the local repository") {
		t.Errorf("failed issue: %s", failed.Body)
	}
	rel := &result.ClusterDeploy{Path: "clusters/a", Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusApplied, Releases: []*result.ReleaseDeploy{{
		Ref: result.KustomizationRef{Namespace: "app", Name: "web"}, Action: result.ReleaseUnchanged, Message: "unchanged; 1 object(s) drifted",
		Drift: []result.ObjectID{{Group: "apps", Kind: "Deployment", Namespace: "app", Name: "web"}}}}}}}
	helmDrift := driftIssue(&pathReport{path: "clusters/a", selected: true, deploy: rel}, commit, "", m)
	if !strings.Contains(helmDrift.Body, "Deployment/app/web (HelmRelease app/web)") || !strings.Contains(helmDrift.Body, "1 object(s) drifted") {
		t.Errorf("Helm release drift issue: %s", helmDrift.Body)
	}
	clean := driftIssue(&pathReport{path: "clusters/a", selected: true, deploy: &result.ClusterDeploy{Path: "clusters/a"}}, commit, "", m)
	if clean.Body != "" || !strings.Contains(clean.CloseComment, "matches commit `bbbbbbbbbbbb`") {
		t.Errorf("clean issue: %+v", clean)
	}
}
