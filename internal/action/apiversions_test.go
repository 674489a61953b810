package action_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// TestPullRequestAPIVersions: the api-versions input reaches the charts'
// .Capabilities.APIVersions in the action's diff, as --api-versions does
// in the CLI's: a chart that renders an object only when a kind is served
// shows it with the input, not without.
func TestPullRequestAPIVersions(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{
		"charts/hello/Chart.yaml": "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
		"charts/hello/templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: hello}
data: {message: hi}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: monitoring-on}
data: {k: v}
{{- end }}
`,
		"apps/a/hello.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: hello, namespace: app-a}
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/hello
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
`,
	})
	head := f.Commit("add a chart", base)
	srv := newServer(t, githubtest.WriteAll)
	comment := func(number int, apiVersions string) string {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(number, head, base, actiontest.Owner+"/"+actiontest.Repo))
		r.Env["GITHUB_SHA"] = head
		r.Env["INPUT_PATH"] = "clusters/a"
		r.Env["INPUT_API-VERSIONS"] = apiVersions
		if out := r.Run(); out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
			t.Fatalf("api-versions %q: exit %d, result %s\n%s", apiVersions, out.ExitCode, out.Result, r.Log.String())
		}
		ca := ourComments(srv, number, "clusters/a")
		if len(ca) != 1 {
			t.Fatalf("api-versions %q: %d comments\n%s", apiVersions, len(ca), r.Log.String())
		}
		return ca[0].Body
	}
	if body := comment(31, ""); !strings.Contains(body, "hello") || strings.Contains(body, "monitoring-on") {
		t.Errorf("without api-versions the chart should render its ConfigMap only:\n%s", body)
	}
	if body := comment(32, "monitoring.coreos.com/v1, example.com/v1"); !strings.Contains(body, "monitoring-on") {
		t.Errorf("with api-versions the chart should see monitoring.coreos.com/v1:\n%s", body)
	}
}
