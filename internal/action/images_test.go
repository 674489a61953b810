package action_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

func webDeployment(image, checksum string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: app-a
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {checksum/config: "` + checksum + `"}
    spec:
      containers: [{name: web, image: "` + image + `"}]
`
}

// TestPullRequestImageChanges: the action's offline diff reports an image
// bump first in the comment and in the image-changes output (a matrix),
// strips checksum churn by default, and the noise inputs change that.
func TestPullRequestImageChanges(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"apps/a/web.yaml": webDeployment("nginx:1.26", "aaa")})
	base := f.Commit("base")
	srv := newServer(t, githubtest.WriteAll)

	run := func(head string, env map[string]string) *actiontest.Runner {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(9, head, base, actiontest.Owner+"/"+actiontest.Repo))
		r.Env["GITHUB_SHA"] = head
		for k, v := range env {
			r.Env[k] = v
		}
		if out := r.Run(); out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
			t.Fatalf("exit %d, result %s\n%s", out.ExitCode, out.Result, r.Log.String())
		}
		return r
	}

	// Only the checksum changes: stripped by default, no change.
	f.Write(map[string]string{"apps/a/web.yaml": webDeployment("nginx:1.26", "bbb")})
	churn := f.Commit("churn", base)
	r := run(churn, nil)
	if o := r.Outputs(); o["changed"] != "false" || o["image-changes"] != "[]" {
		t.Errorf("checksum churn: outputs %v, want no change", o)
	}
	r = run(churn, map[string]string{"INPUT_STRIP-ANNOTATIONS": "none"})
	if o := r.Outputs(); o["changed"] != "true" {
		t.Errorf("strip-annotations none: outputs %v, want the checksum change", o)
	}

	f.Write(map[string]string{"apps/a/web.yaml": webDeployment("nginx:1.27", "bbb")})
	bump := f.Commit("bump", base)
	r = run(bump, map[string]string{"INPUT_DIFF-CONTEXT": "0"})
	var got []diff.ImageChange
	if err := json.Unmarshal([]byte(r.Outputs()["image-changes"]), &got); err != nil {
		t.Fatalf("image-changes output: %v: %q", err, r.Outputs()["image-changes"])
	}
	if len(got) != 1 || got[0].Path != "clusters/a" || got[0].Action != "updated" || got[0].Image != "nginx:1.27" || got[0].From != "nginx:1.26" {
		t.Errorf("image-changes = %+v, want clusters/a nginx 1.26 → 1.27", got)
	}
	ca := ourComments(srv, 9, "clusters/a")
	if len(ca) != 1 {
		t.Fatalf("%d comments for clusters/a", len(ca))
	}
	body := ca[0].Body
	img, yaml := strings.Index(body, "#### Image changes"), strings.Index(body, "```diff")
	if img < 0 || yaml < img || !strings.Contains(body, "`nginx:1.26` → `nginx:1.27`") {
		t.Errorf("the comment should list the image change before the YAML diff:\n%s", body)
	}
}
