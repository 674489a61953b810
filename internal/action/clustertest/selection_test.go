package clustertest

import (
	"context"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
)

// A pull request with a kubeconfig and the kustomization input: the
// offline diff is narrowed to the selection, the live diff dry-runs the
// whole cluster path — so its prune list does not take the Kustomizations
// left out for deletions — and says so; nothing in the cluster changes.
func TestPullRequestSelectionLiveDiff(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	deploy := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": base})
	deploy.Env["GITHUB_SHA"] = base
	deploy.Env["INPUT_KUBECONFIG"] = kubeconfig
	deploy.Env["INPUT_PATH"] = "clusters/a"
	if out := deploy.Run(); out.ExitCode != 0 {
		t.Fatalf("deploying the base: exit %d\n%s", out.ExitCode, deploy.Log.String())
	}

	f.Write(map[string]string{
		"apps/a/config.yaml":    actiontest.ConfigMap("a", "2"),
		"clusters/a/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: flux-system\ndata:\n  k: v\n",
	})
	head := f.Commit("change both Kustomizations", base)
	r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(21, head, base, actiontest.Owner+"/"+actiontest.Repo))
	r.Env["GITHUB_SHA"] = head
	r.Env["INPUT_KUBECONFIG"] = kubeconfig
	r.Env["INPUT_PATH"] = "clusters/a"
	r.Env["INPUT_KUSTOMIZATION"] = "flux-system/apps"
	if out := r.Run(); out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
		t.Fatalf("exit %d, result %s\n%s", out.ExitCode, out.Result, r.Log.String())
	}
	var body string
	for _, c := range srv.Comments(21) {
		if strings.HasPrefix(c.Body, github.CommentMarker("diff", "clusters/a")) {
			body = c.Body
		}
	}
	offline, live, ok := strings.Cut(body, "of the whole cluster path, not narrowed by the selection")
	if !ok || !strings.Contains(offline, "only Kustomization flux-system/apps") || strings.Contains(offline, "extra") {
		t.Fatalf("the comment should narrow the offline diff and say the live diff is not narrowed:\n%s", body)
	}
	if !strings.Contains(live, "ConfigMap/app-a/settings | configured") || !strings.Contains(live, "ConfigMap/flux-system/extra | created") || strings.Contains(live, "deleted") {
		t.Errorf("the live diff should dry-run the whole path, deleting nothing:\n%s", live)
	}
	got, err := local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
	if err != nil || got != "1" {
		t.Errorf("a pull request changed the cluster: settings version %q (%v)", got, err)
	}
}
