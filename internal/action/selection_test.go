package action_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action"
	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// extra is an object of clusters/a's flux-system Kustomization with a
// misspelled field: a change and a validation error outside flux-system/apps.
const extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: flux-system\nspex: {}\ndata:\n  k: v\n"

// TestPullRequestSelection: with the kustomization input a pull request
// is validated and diffed for that Kustomization only, as the CLI's
// --kustomization does, and the comment says so; the same pull request
// without it reports both Kustomizations (and fails on the other's error).
func TestPullRequestSelection(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{
		"apps/a/config.yaml":    actiontest.ConfigMap("a", "2"),
		"clusters/a/extra.yaml": extra,
	})
	head := f.Commit("change both Kustomizations", base)
	srv := newServer(t, githubtest.WriteAll)
	run := func(number int, env map[string]string) (*actiontest.Runner, action.Outcome) {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(number, head, base, actiontest.Owner+"/"+actiontest.Repo))
		r.Env["GITHUB_SHA"] = head
		for k, v := range env {
			r.Env[k] = v
		}
		return r, r.Run()
	}

	r, out := run(11, map[string]string{"INPUT_KUSTOMIZATION": "flux-system/apps"})
	if out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
		t.Fatalf("selected: exit %d, result %s (the error outside the selection must not count)\n%s", out.ExitCode, out.Result, r.Log.String())
	}
	ca := ourComments(srv, 11, "clusters/a")
	if len(ca) != 1 {
		t.Fatalf("selected: %d comments for clusters/a\n%s", len(ca), r.Log.String())
	}
	body := ca[0].Body
	if !strings.Contains(body, "only Kustomization flux-system/apps") || !strings.Contains(body, "settings") || strings.Contains(body, "extra") {
		t.Errorf("selected: the comment should say the selection and show only flux-system/apps' change:\n%s", body)
	}
	if s := r.File("summary"); !strings.Contains(s, "selection: reporting only Kustomization flux-system/apps") || strings.Contains(s, "spex") {
		t.Errorf("selected: the summary should state the selection and leave out the other Kustomization's findings:\n%s", s)
	}

	r, out = run(12, nil)
	if out.ExitCode != 1 {
		t.Fatalf("unselected: exit %d, want 1 for the schema error in flux-system\n%s", out.ExitCode, r.Log.String())
	}
	if ca := ourComments(srv, 12, "clusters/a"); len(ca) != 1 || !strings.Contains(ca[0].Body, "extra") || strings.Contains(ca[0].Body, "only Kustomization") {
		t.Errorf("unselected: the comment should show both Kustomizations' changes: %+v", ca)
	}
}

// TestSelectionUnknownName: a name no cluster path has fails the run with
// the CLI's message, before any comment; a malformed one is an input error.
func TestSelectionUnknownName(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "2")})
	head := f.Commit("change", base)
	srv := newServer(t, githubtest.WriteAll)
	for _, tc := range []struct {
		event, key, value, want string
	}{
		{"pull_request", "INPUT_KUSTOMIZATION", "flux-system/nope", "input kustomization: \"flux-system/nope\": Kustomization flux-system/nope: not found in any cluster path built"},
		{"pull_request", "INPUT_HELMRELEASE", "flux-system/nope", "HelmRelease flux-system/nope: not found in any cluster path built"},
		{"pull_request", "INPUT_KUSTOMIZATION", "apps", "input kustomization: \"apps\": want NAMESPACE/NAME"},
		// Without a diff (a dispatch validates), the build is checked.
		{"workflow_dispatch", "INPUT_KUSTOMIZATION", "flux-system/nope", "Kustomization flux-system/nope: not found in any cluster path built"},
	} {
		payload := any(map[string]any{})
		if tc.event == "pull_request" {
			payload = actiontest.PRPayload(13, head, base, actiontest.Owner+"/"+actiontest.Repo)
		}
		r := actiontest.NewRunner(t, srv, f.Dir, tc.event, payload)
		r.Env["GITHUB_SHA"] = head
		r.Env[tc.key] = tc.value
		out := r.Run()
		if out.ExitCode != 1 || out.Result != github.ConclusionFailure || !strings.Contains(r.Log.String(), tc.want) || !strings.Contains(r.File("summary"), tc.want) {
			t.Errorf("%s %s=%s: exit %d, result %s, want %q in the log and summary:\n%s", tc.event, tc.key, tc.value, out.ExitCode, out.Result, tc.want, r.Log.String())
		}
	}
	if n := len(srv.Comments(13)); n != 0 {
		t.Errorf("%d comments on a run refused for its selection", n)
	}
}

// TestSelectionRefusedForDeploy: a deploy applies and prunes whole cluster
// paths, so a selection with a deploy is refused before the cluster is
// touched (the kubeconfig here names no reachable cluster: refusing comes
// first).
func TestSelectionRefusedForDeploy(t *testing.T) {
	f := actiontest.NewFleet(t)
	after := f.Commit("base")
	r := actiontest.NewRunner(t, nil, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
	r.Env["INPUT_MODE"] = "deploy"
	r.Env["INPUT_KUBECONFIG"] = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n"
	r.Env["INPUT_KUSTOMIZATION"] = "flux-system/apps"
	out := r.Run()
	if out.ExitCode != 1 || !strings.Contains(r.Log.String(), "would prune what it leaves out") || strings.Contains(r.Log.String(), "::group::Deploy") {
		t.Errorf("deploy with a selection: exit %d\n%s", out.ExitCode, r.Log.String())
	}
}
