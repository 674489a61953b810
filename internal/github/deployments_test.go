package github_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// A deployment is created with what a deploy tool must send (the fake
// refuses GitHub's defaults auto_merge: true and every context required,
// and checks the body against GitHub's OpenAPI description), then gets
// its statuses in order.
func TestDeploymentAndStatuses(t *testing.T) {
	c, srv, _ := newClient(t, githubtest.WriteAll)
	ctx := context.Background()
	id, err := c.CreateDeployment(ctx, github.Deployment{Commit: sha, Environment: "clusters/prod", Description: strings.Repeat("long ", 100)})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []github.DeploymentState{github.DeploymentInProgress, github.DeploymentSuccess} {
		if err := c.CreateDeploymentStatus(ctx, id, github.DeploymentStatus{State: st, Description: strings.Repeat("é", 500), LogURL: "https://github.example/acme/fleet/actions/runs/1", EnvironmentURL: "https://prod.example"}); err != nil {
			t.Fatal(err)
		}
	}
	deps := srv.Deployments()
	if len(deps) != 1 {
		t.Fatalf("%d deployments", len(deps))
	}
	d := deps[0]
	if d.Ref != sha || d.Environment != "clusters/prod" || d.AutoMerge == nil || *d.AutoMerge || d.RequiredContexts == nil || len(d.RequiredContexts) != 0 || d.TransientEnvironment {
		t.Errorf("deployment: %+v", d)
	}
	if len(d.Statuses) != 2 || d.Statuses[0].State != "in_progress" || d.Statuses[1].State != "success" || d.Statuses[1].EnvironmentURL != "https://prod.example" {
		t.Errorf("statuses: %+v", d.Statuses)
	}
	// The body as sent: required_contexts is an empty list, not absent.
	for _, req := range srv.Requests() {
		if strings.HasSuffix(req.Path, "/deployments") {
			var body map[string]any
			_ = json.Unmarshal([]byte(req.Body), &body)
			if rc, ok := body["required_contexts"].([]any); !ok || len(rc) != 0 {
				t.Errorf("required_contexts sent as %v", body["required_contexts"])
			}
		}
	}
}

// The fake refuses a deployment status GitHub's description does not
// allow, and a token without deployments: write.
func TestFakeDeploymentRefusals(t *testing.T) {
	c, _, _ := newClient(t, githubtest.WriteAll)
	ctx := context.Background()
	id, err := c.CreateDeployment(ctx, github.Deployment{Commit: sha, Environment: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDeploymentStatus(ctx, id, github.DeploymentStatus{State: "deployed"}); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("state outside the enum: %v", err)
	}
	ro, _, _ := newClient(t, githubtest.ReadOnly)
	if _, err := ro.CreateDeployment(ctx, github.Deployment{Commit: sha, Environment: "e"}); !github.IsForbidden(err) {
		t.Errorf("read-only token: %v", err)
	}
}

// One issue per marker: opened, updated in place, duplicates closed,
// closed with a comment once the body is empty.
func TestSyncIssue(t *testing.T) {
	c, srv, _ := newClient(t, githubtest.WriteAll)
	ctx := context.Background()
	ti := github.TrackedIssue{Label: "slipway-drift", Marker: github.CommentMarker("drift", "clusters/a"), Title: "drift in clusters/a", Body: "first"}
	if a, n, err := c.SyncIssue(ctx, ti); err != nil || a != github.IssueOpened || n != 1 {
		t.Fatalf("open: %v #%d %v", a, n, err)
	}
	other := ti
	other.Marker, other.Title = github.CommentMarker("drift", "clusters/b"), "drift in clusters/b"
	if _, _, err := c.SyncIssue(ctx, other); err != nil {
		t.Fatal(err)
	}
	ti.Body = "second"
	if a, n, err := c.SyncIssue(ctx, ti); err != nil || a != github.IssueUpdated || n != 1 {
		t.Fatalf("update: %v #%d %v", a, n, err)
	}
	ti.Body, ti.CloseComment = "", "clean again"
	if a, n, err := c.SyncIssue(ctx, ti); err != nil || a != github.IssueClosed || n != 1 {
		t.Fatalf("close: %v #%d %v", a, n, err)
	}
	is := srv.Issues()
	if len(is) != 2 || is[0].State != "closed" || !strings.HasSuffix(is[0].Body, "second") || !slices.Contains(is[0].Labels, "slipway-drift") || is[1].State != "open" {
		t.Errorf("issues: %+v", is)
	}
	if cs := srv.Comments(1); len(cs) != 1 || cs[0].Body != "clean again" {
		t.Errorf("closing comment: %+v", cs)
	}
	// Clean and nothing open: nothing to do.
	if a, _, err := c.SyncIssue(ctx, ti); err != nil || a != github.IssueUnchanged {
		t.Errorf("clean twice: %v %v", a, err)
	}
}
