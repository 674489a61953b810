package action_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// example reads one of GitHub's published example payloads and edits it to
// point at the test fleet's commits.
func example(t *testing.T, name string, edit func(map[string]any)) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "github", "testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	return p
}

// A merge queue's checks_requested: the group's head is validated and
// diffed against its base, check runs go on head_sha (where the queue
// reads required checks), nothing is deployed or commented.
func TestMergeGroupChecksOnHead(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{"apps/b/config.yaml": actiontest.ConfigMap("b", "7")})
	head := f.Commit("queued change")
	srv := newServer(t, githubtest.WriteAll)
	payload := example(t, "merge_group.checks_requested.json", func(p map[string]any) {
		mg := p["merge_group"].(map[string]any)
		mg["head_sha"], mg["base_sha"] = head, base
	})
	r := actiontest.NewRunner(t, srv, f.Dir, "merge_group", payload)
	r.Env["GITHUB_SHA"] = head
	r.Env["INPUT_MODE"] = "deploy" // a merge group is never deployed
	out := r.Run()
	if out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
		t.Fatalf("exit %d result %s\n%s", out.ExitCode, out.Result, r.Log.String())
	}
	runs := srv.CheckRuns()
	if len(runs) != 2 {
		t.Fatalf("%d check runs, want one per cluster path (the required checks)", len(runs))
	}
	for _, cr := range runs {
		if cr.HeadSHA != head || cr.Status != "completed" || cr.Conclusion != "success" {
			t.Errorf("check run %s: sha %s status %s conclusion %s, want completed success on %s", cr.Name, cr.HeadSHA, cr.Status, cr.Conclusion, head)
		}
	}
	sum := r.File("summary")
	for _, want := range []string{"merge queue", "gh-readonly-queue/main/pr-104", `version: "7"`, "temporary branch"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if o := r.Outputs(); o["changed"] != "true" || o["result"] != "success" {
		t.Errorf("outputs %v", o)
	}
	for _, req := range srv.Requests() {
		if strings.Contains(req.Path, "/comments") {
			t.Errorf("a merge group commented: %s %s", req.Method, req.Path)
		}
	}

	// A group the queue dropped needs nothing.
	payload["action"] = "destroyed"
	r = actiontest.NewRunner(t, srv, f.Dir, "merge_group", payload)
	if out := r.Run(); out.Result != github.ConclusionNeutral || out.ExitCode != 0 {
		t.Errorf("destroyed group: exit %d result %s", out.ExitCode, out.Result)
	}
}

// A tag push is described as one, not as a new branch.
func TestTagPushDescribed(t *testing.T) {
	f := actiontest.NewFleet(t)
	after := f.Commit("release")
	payload := example(t, "push.tag-created.json", func(p map[string]any) { p["after"] = after })
	r := actiontest.NewRunner(t, nil, f.Dir, "push", payload)
	r.Env["GITHUB_SHA"] = after
	if out := r.Run(); out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	sum := r.File("summary")
	if !strings.Contains(sum, "the push created the tag simple-tag") || strings.Contains(sum, "created the branch") {
		t.Errorf("summary:\n%s", sum)
	}
}

// A manual run that validates only reports its plan as changed, as
// action.yml says: the matrix lists the selected cluster paths.
func TestDispatchValidateOnlyChanged(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Commit("base")
	r := actiontest.NewRunner(t, nil, f.Dir, "workflow_dispatch", example(t, "workflow_dispatch.json", func(map[string]any) {}))
	if out := r.Run(); out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if o := r.Outputs(); o["matrix"] != `{"path":["clusters/a","clusters/b"]}` || o["changed"] != "true" {
		t.Errorf("outputs %v", o)
	}
}

// A pull request whose head repository was deleted (head.repo: null) is
// treated as a fork: no comment is attempted.
func TestPullRequestDeletedHeadRepo(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{"apps/b/config.yaml": actiontest.ConfigMap("b", "8")})
	head := f.Commit("change from a repository since deleted")
	srv := newServer(t, githubtest.WriteAll)
	payload := actiontest.PRPayload(11, head, base, "")
	payload["pull_request"].(map[string]any)["head"].(map[string]any)["repo"] = nil
	r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", payload)
	r.Env["GITHUB_SHA"] = head
	if out := r.Run(); out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if n := len(srv.Comments(11)); n != 0 {
		t.Errorf("%d comments on a pull request treated as a fork", n)
	}
	if !strings.Contains(r.File("summary"), "fork") {
		t.Errorf("the summary does not say the pull request is treated as a fork:\n%s", r.File("summary"))
	}
}

// Uninstall against a cluster that cannot be reached removed nothing:
// changed is false, and the run fails.
func TestUninstallUnreachableClusterUnchanged(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Commit("base")
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: admin-token-0123456789}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`
	r := actiontest.NewRunner(t, nil, f.Dir, "workflow_dispatch", map[string]any{"inputs": map[string]any{}})
	r.Env["INPUT_MODE"] = "uninstall"
	r.Env["INPUT_CONFIRM"] = "uninstall"
	r.Env["INPUT_PATH"] = "clusters/a"
	r.Env["INPUT_KUBECONFIG"] = kubeconfig
	r.Env["INPUT_TIMEOUT"] = "5s"
	out := r.Run()
	if out.ExitCode != 1 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if o := r.Outputs(); o["changed"] != "false" || o["result"] != "failure" {
		t.Errorf("outputs %v", o)
	}
}

// The action builds through the CLI's engine, build cache included: a run
// leaves reusable builds under cache-dir (relative to the workspace), and
// the next run, restored from it, gives the same result.
func TestActionUsesBuildCache(t *testing.T) {
	f := actiontest.NewFleet(t)
	sha := f.Commit("base")
	run := func() *actiontest.Runner {
		r := actiontest.NewRunner(t, nil, f.Dir, "workflow_dispatch", map[string]any{"inputs": map[string]any{}})
		r.Env["GITHUB_SHA"] = sha
		r.Env["INPUT_CACHE-DIR"] = ".slipway-cache"
		if out := r.Run(); out.ExitCode != 0 {
			t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
		}
		return r
	}
	first := run()
	files, err := filepath.Glob(filepath.Join(f.Dir, ".slipway-cache", "builds", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no build cache written under the workspace's .slipway-cache/builds: %v %v", files, err)
	}
	second := run()
	if a, b := first.File("summary"), second.File("summary"); stripTimes(a) != stripTimes(b) {
		t.Errorf("a run from the cache reports differently:\n%s\n---\n%s", a, b)
	}
}

// stripTimes removes durations, which differ between runs.
func stripTimes(s string) string {
	return regexp.MustCompile(`[0-9.]+(ms|µs|s)\b`).ReplaceAllString(s, "T")
}

// A scheduled run without a kubeconfig validates; mode drift needs one.
func TestScheduleWithoutCluster(t *testing.T) {
	f := actiontest.NewFleet(t)
	sha := f.Commit("base")
	r := actiontest.NewRunner(t, nil, f.Dir, "schedule", map[string]any{"schedule": "*/30 * * * *"})
	r.Env["GITHUB_SHA"] = sha
	if out := r.Run(); out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
		t.Fatalf("exit %d result %s\n%s", out.ExitCode, out.Result, r.Log.String())
	}
	if !strings.Contains(r.File("summary"), "scheduled run: no kubeconfig: validated only.") {
		t.Errorf("summary:\n%s", r.File("summary"))
	}
	r.Env["INPUT_MODE"] = "drift"
	if out := r.Run(); out.ExitCode != 1 || !strings.Contains(r.Log.String(), "input kubeconfig: mode drift compares with the cluster") {
		t.Errorf("mode drift without kubeconfig: exit %d\n%s", out.ExitCode, r.Log.String())
	}
}
