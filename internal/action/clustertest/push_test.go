package clustertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

var (
	local      *testcluster.Cluster
	skipReason string
)

func TestMain(m *testing.M) {
	code := testcluster.Main(m, "action's deploy tests", func(c *testcluster.Cluster, reason string) error {
		local, skipReason = c, reason
		return nil
	})
	if binary.path != "" {
		_ = os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// clusterSetup skips the test without the local cluster, and returns the
// cluster's kubeconfig and a fake GitHub that grants the test token every
// permission.
func clusterSetup(t *testing.T) (kubeconfig string, srv *githubtest.Server) {
	t.Helper()
	if local == nil {
		t.Skip(skipReason)
	}
	data, err := os.ReadFile(local.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	srv = githubtest.New(actiontest.Owner, actiontest.Repo)
	t.Cleanup(srv.Close)
	srv.AddToken(actiontest.Token, githubtest.WriteAll)
	t.Cleanup(func() { resetCluster(t) })
	return string(data), srv
}

// resetCluster removes what a test deployed to the shared cluster, with
// slipway's own uninstall, so that every test starts from an empty
// cluster whatever ran before it (a test run alone with -run behaves as in
// the whole package).
func resetCluster(t *testing.T) {
	t.Helper()
	c, err := local.Connect()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	u := uninstall.Run(context.Background(), c, uninstall.Options{Prune: true, Timeout: time.Minute})
	t.Logf("reset in %s", time.Since(start))
	if len(u.Errors) > 0 {
		t.Errorf("resetting the cluster: %v", u.Errors)
	}
}

// Pushes to main deploy clusters/a (clusters/b is another cluster: same
// Kustomization names): the first push (a new branch) plans every path,
// the next one what changed, and an identical redeploy changes nothing. Checks, summary and outputs say so; secrets never leave.
func TestPushDeploys(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	f := actiontest.NewFleet(t)
	first := f.Commit("first")

	push := func(before, after string) *actiontest.Runner {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": before, "after": after})
		r.Env["GITHUB_SHA"] = after
		r.Env["INPUT_KUBECONFIG"] = kubeconfig
		r.Env["INPUT_PATH"] = "clusters/a"
		r.Env["INPUT_WAIT"] = "true"
		r.Env["INPUT_TIMEOUT"] = "2m"
		out := r.Run()
		if out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
			t.Fatalf("exit %d result %s\n%s\nsummary:\n%s", out.ExitCode, out.Result, r.Log.String(), r.File("summary"))
		}
		actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)
		return r
	}
	checksOn := func(sha string) map[string]githubtest.CheckRun {
		out := map[string]githubtest.CheckRun{}
		for _, cr := range srv.CheckRuns() {
			if cr.HeadSHA == sha {
				out[cr.Name] = cr
			}
		}
		return out
	}

	r := push(github.ZeroSHA, first)
	o := r.Outputs()
	if o["changed"] != "true" || o["matrix"] != `{"path":["clusters/a"]}` {
		t.Errorf("first push outputs: %v", o)
	}
	runs := checksOn(first)
	if len(runs) != 1 || runs["slipway / clusters/a"].Conclusion != "success" || runs["slipway / clusters/a"].Title != "deployed" {
		t.Fatalf("check runs: %+v", runs)
	}
	if s := runs["slipway / clusters/a"].Summary; !strings.Contains(s, "| ConfigMap/app-a/settings | created |") {
		t.Errorf("check run summary lacks the change table:\n%s", s)
	}
	got, err := local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
	if err != nil || got != "1" {
		t.Fatalf("deployed ConfigMap: %q %v", got, err)
	}

	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "2")})
	second := f.Commit("bump a")
	r = push(first, second)
	o = r.Outputs()
	if o["changed"] != "true" || o["matrix"] != `{"path":["clusters/a"]}` {
		t.Errorf("second push outputs: %v", o)
	}
	if s := checksOn(second)["slipway / clusters/a"].Summary; !strings.Contains(s, "| ConfigMap/app-a/settings | configured |") {
		t.Errorf("second push summary:\n%s", s)
	}
	got, _ = local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
	if got != "2" {
		t.Errorf("ConfigMap version %q after the second push, want 2", got)
	}

	third := f.Commit("nothing")
	r = push(second, third)
	if o := r.Outputs(); o["changed"] != "false" || o["matrix"] != `{"path":[]}` {
		t.Errorf("no-op push outputs: %v", o)
	}
	if s := checksOn(third)["slipway / clusters/a"].Summary; !strings.Contains(s, "No changes.") {
		t.Errorf("no-op push summary:\n%s", s)
	}
}

// A Deployment that never becomes ready: the deploy times out, the check
// run fails with an annotation at the Deployment's file and line, and the
// exit code says so.
func TestPushHealthTimeout(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"apps/a/stuck.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
  namespace: app-a
spec:
  replicas: 1
  selector:
    matchLabels: {app: stuck}
  template:
    metadata:
      labels: {app: stuck}
    spec:
      nodeSelector:
        slipway.test/no-such-node: "true"
      containers:
        - name: app
          image: example.invalid/app:1
`})
	sha := f.Commit("stuck")
	r := actiontest.NewRunner(t, srv, f.Dir, "workflow_dispatch", map[string]any{"inputs": map[string]any{}})
	r.Env["GITHUB_SHA"] = sha
	r.Env["INPUT_KUBECONFIG"] = kubeconfig
	r.Env["INPUT_PATH"] = "clusters/a"
	r.Env["INPUT_WAIT"] = "true"
	r.Env["INPUT_TIMEOUT"] = "15s"
	out := r.Run()
	if out.ExitCode != 1 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	runs := srv.CheckRuns()
	if len(runs) != 1 || runs[0].Conclusion != "failure" {
		t.Fatalf("check runs: %+v", runs)
	}
	found := false
	for _, a := range runs[0].Annotations {
		if a.Path == "apps/a/stuck.yaml" && a.StartLine == 1 && a.Level == "failure" && strings.Contains(a.Message, "Deployment/app-a/stuck") {
			found = true
		}
	}
	if !found {
		t.Errorf("no failure annotation at apps/a/stuck.yaml:1: %+v\n%s", runs[0].Annotations, runs[0].Text)
	}
	actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)
}

// Two pushes whose runs finish out of order: the run of the older commit
// gets the lock last and must not roll the cluster back. Its check run is
// neutral ("a newer commit is deployed"), nothing changes, the job passes;
// a manual run with allow-rollback deploys it.
func TestPushOutOfOrderNotRolledBack(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "10")})
	older := f.Commit("version 10")
	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "11")})
	newer := f.Commit("version 11")
	run := func(event, sha string, payload map[string]any, extra map[string]string) (*actiontest.Runner, int) {
		f.Checkout(sha)
		r := actiontest.NewRunner(t, srv, f.Dir, event, payload)
		r.Env["GITHUB_SHA"] = sha
		r.Env["INPUT_KUBECONFIG"] = kubeconfig
		r.Env["INPUT_PATH"] = "clusters/a"
		for k, v := range extra {
			r.Env[k] = v
		}
		return r, r.Run().ExitCode
	}
	version := func() string {
		got, _ := local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
		return got
	}
	if r, code := run("push", newer, map[string]any{"ref": "refs/heads/main", "before": older, "after": newer}, nil); code != 0 {
		t.Fatalf("newer: exit %d\n%s", code, r.Log.String())
	}
	r, code := run("push", older, map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": older}, nil)
	if code != 0 {
		t.Fatalf("older: exit %d\n%s", code, r.Log.String())
	}
	if v := version(); v != "11" {
		t.Fatalf("the older run rolled the cluster back to version %s", v)
	}
	var cr githubtest.CheckRun
	for _, c := range srv.CheckRuns() {
		if c.HeadSHA == older {
			cr = c
		}
	}
	if cr.Conclusion != "neutral" || cr.Title != "not deployed: a newer commit is deployed" || !strings.Contains(r.File("summary"), newer[:12]) {
		t.Errorf("older run's check: %s %q\nsummary:\n%s", cr.Conclusion, cr.Title, r.File("summary"))
	}
	if r, code := run("workflow_dispatch", older, map[string]any{"inputs": map[string]any{}}, map[string]string{"INPUT_MODE": "deploy", "INPUT_ALLOW-ROLLBACK": "true"}); code != 0 || version() != "10" {
		t.Fatalf("explicit rollback: exit %d, version %s\n%s", code, version(), r.Log.String())
	}
}

// Scheduled runs keep a cluster on what the repository says without a
// controller: after a hand edit, mode drift reports the drifted object and
// changes nothing; the default scheduled run redeploys and reverts it.
func TestScheduleDriftAndReconcile(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "20")})
	sha := f.Commit("version 20")
	run := func(event string, payload map[string]any, mode string) *actiontest.Runner {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, event, payload)
		r.Env["GITHUB_SHA"] = sha
		r.Env["INPUT_KUBECONFIG"] = kubeconfig
		r.Env["INPUT_PATH"] = "clusters/a"
		if mode != "" {
			r.Env["INPUT_MODE"] = mode
		}
		if out := r.Run(); out.ExitCode != 0 {
			t.Fatalf("%s %s: exit %d\n%s", event, mode, out.ExitCode, r.Log.String())
		}
		actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)
		return r
	}
	version := func() string {
		got, _ := local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
		return got
	}
	run("push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": sha}, "")
	if _, err := local.Kubectl(context.Background(), "-n", "app-a", "patch", "configmap", "settings", "--type", "merge", "-p", `{"data":{"version":"edited-by-hand"}}`); err != nil {
		t.Fatal(err)
	}

	r := run("schedule", map[string]any{"schedule": "*/30 * * * *"}, "drift")
	if v := version(); v != "edited-by-hand" {
		t.Fatalf("mode drift changed the cluster: version %q", v)
	}
	sum := r.File("summary")
	if !strings.Contains(sum, "ConfigMap/app-a/settings") || !strings.Contains(sum, "drift mode") {
		t.Errorf("the drift is not reported:\n%s", sum)
	}
	if o := r.Outputs(); o["changed"] != "true" {
		t.Errorf("drift outputs %v", o)
	}

	r = run("schedule", map[string]any{"schedule": "*/30 * * * *"}, "")
	if v := version(); v != "20" {
		t.Fatalf("the scheduled reconcile did not revert the hand edit: version %q", v)
	}
	if !strings.Contains(r.File("summary"), "redeployed, reverting any drift") {
		t.Errorf("summary:\n%s", r.File("summary"))
	}
}
