package action_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/testutil"
)

func newServer(t *testing.T, perms githubtest.Permissions) *githubtest.Server {
	srv := githubtest.New(actiontest.Owner, actiontest.Repo)
	t.Cleanup(srv.Close)
	srv.AddToken(actiontest.Token, perms)
	return srv
}

func ourComments(srv *githubtest.Server, number int, path string) []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range srv.Comments(number) {
		if strings.HasPrefix(c.Body, github.CommentMarker("diff", path)) {
			out = append(out, c)
		}
	}
	return out
}

// A pull request: checks on the head commit (not the merge commit), one
// comment per changed cluster path updated in place across pushes and
// deleted when the change is reverted; secrets never leave.
func TestPullRequestDiffCommentInPlace(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	srv := newServer(t, githubtest.WriteAll)
	srv.AddComment(7, "a human comment")

	push := func(version string) (head, merge string) {
		f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", version)})
		head = f.Commit("change "+version, base)
		// The test merge commit GitHub checks out: base first, then head.
		merge = f.Commit("merge", base, head)
		return head, merge
	}
	run := func(head, merge string) *actiontest.Runner {
		r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(7, head, base, actiontest.Owner+"/"+actiontest.Repo))
		r.Env["GITHUB_SHA"] = merge
		out := r.Run()
		if out.ExitCode != 0 || out.Result != github.ConclusionSuccess {
			t.Fatalf("exit %d, result %s\n%s", out.ExitCode, out.Result, r.Log.String())
		}
		actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)
		return r
	}

	head1, merge1 := push("2")
	// A secondary rate limit on the first request: retried, not fatal.
	srv.RateLimitNext(1, 1)
	r := run(head1, merge1)
	runs := srv.CheckRuns()
	if len(runs) != 2 {
		t.Fatalf("%d check runs, want one per cluster path", len(runs))
	}
	for _, cr := range runs {
		if cr.HeadSHA != head1 || cr.Status != "completed" || cr.Conclusion != "success" {
			t.Errorf("check run %s: sha %s status %s conclusion %s (want head %s, completed, success)", cr.Name, cr.HeadSHA, cr.Status, cr.Conclusion, head1)
		}
		if !strings.HasPrefix(cr.Name, "slipway / clusters/") || !strings.Contains(cr.Text, "```mermaid") {
			t.Errorf("check run %q lacks the name or the dependency graph", cr.Name)
		}
	}
	ca := ourComments(srv, 7, "clusters/a")
	if len(ca) != 1 || !strings.Contains(ca[0].Body, `version: "2"`) {
		t.Fatalf("clusters/a comments: %+v", ca)
	}
	if len(ourComments(srv, 7, "clusters/b")) != 0 {
		t.Error("clusters/b did not change but got a comment")
	}
	if !strings.Contains(ca[0].Body, "**redacted**") {
		t.Errorf("the substituted secret should show as redacted:\n%s", ca[0].Body)
	}
	if o := r.Outputs(); o["result"] != "success" || o["changed"] != "true" || o["diff-file"] != ".slipway/diff.md" || o["summary-file"] != ".slipway/summary.md" {
		t.Errorf("outputs: %v", o)
	}
	assertHTMLReport(t, r, "clusters/a")
	for _, cr := range runs {
		if strings.HasSuffix(cr.Name, "clusters/a") && !strings.Contains(cr.Text, "changed by this pull request") {
			t.Errorf("check run %s: the graph does not mark the change:\n%s", cr.Name, cr.Text)
		}
	}
	if sum := r.File("summary"); !strings.Contains(sum, "What this change touches in clusters/a") || !strings.Contains(sum, "changed by this pull request") {
		t.Errorf("the job summary has no graph marking the change:\n%s", sum)
	}

	head2, merge2 := push("3")
	run(head2, merge2)
	ca2 := ourComments(srv, 7, "clusters/a")
	if len(ca2) != 1 || ca2[0].ID != ca[0].ID || !strings.Contains(ca2[0].Body, `version: "3"`) {
		t.Fatalf("comment not updated in place: before %d, after %+v", ca[0].ID, ca2)
	}

	head3, merge3 := push("1") // back to base: no change any more
	r = run(head3, merge3)
	if n := len(ourComments(srv, 7, "clusters/a")); n != 0 {
		t.Errorf("%d comments left after the change was reverted", n)
	}
	if len(srv.Comments(7)) != 1 {
		t.Error("someone else's comment was touched")
	}
	if o := r.Outputs(); o["changed"] != "false" {
		t.Errorf("changed = %q after revert", o["changed"])
	}
}

// A fork's read-only token: no checks, no statuses, no comments, yet the
// run validates, diffs into the summary and exits 0.
func TestForkPullRequestFallback(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{"apps/b/config.yaml": actiontest.ConfigMap("b", "9")})
	head := f.Commit("fork change")
	srv := newServer(t, githubtest.ReadOnly)
	r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(9, head, base, "someone/fleet"))
	r.Env["GITHUB_SHA"] = head
	out := r.Run()
	if out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if len(srv.CheckRuns())+len(srv.Statuses())+len(srv.Comments(9)) != 0 {
		t.Error("a read-only token wrote something")
	}
	sum := r.File("summary")
	for _, want := range []string{"clusters/b", `version: "9"`, "commit statuses", "read-only"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if !strings.Contains(r.Log.String(), "::warning::cannot create check runs") {
		t.Errorf("no warning about the fallback:\n%s", r.Log.String())
	}
	actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)

	// With `statuses: write` but not `checks: write`: commit statuses.
	srv.AddToken(actiontest.Token, githubtest.Permissions{Statuses: true})
	out = r.Run()
	var final []githubtest.Status
	for _, st := range srv.Statuses() {
		if st.SHA != head {
			t.Errorf("status on %s, want %s", st.SHA, head)
		}
		if st.State != "pending" {
			final = append(final, st)
		}
	}
	if out.ExitCode != 0 || len(final) != 2 || final[0].Context != "slipway / clusters/a" || final[0].State != "success" {
		t.Errorf("exit %d, statuses %+v", out.ExitCode, srv.Statuses())
	}
}

// A push with validation errors on more than 50 objects: failure, every
// error annotated at its file and line, in several requests, outputs cut to
// GitHub's limits; nothing deployed without a kubeconfig.
func TestPushValidationFailure(t *testing.T) {
	f := actiontest.NewFleet(t)
	var b strings.Builder
	const bad = 1000
	for i := range bad {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad-%d\n  namespace: app-a\nspex: {}\ndata:\n  note: %q\n", i, strings.Repeat("long text ", 20))
	}
	f.Write(map[string]string{"apps/a/bad.yaml": b.String()})
	after := f.Commit("break it")
	srv := newServer(t, githubtest.WriteAll)
	r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
	r.Env["GITHUB_SHA"] = after
	out := r.Run()
	if out.ExitCode != 1 || out.Result != github.ConclusionFailure {
		t.Fatalf("exit %d result %s\n%s", out.ExitCode, out.Result, r.Log.String())
	}
	var a *githubtest.CheckRun
	for _, cr := range srv.CheckRuns() {
		if cr.Name == "slipway / clusters/a" {
			a = &cr
		}
	}
	if a == nil || a.Conclusion != "failure" || a.HeadSHA != after {
		t.Fatalf("check run for clusters/a: %+v", a)
	}
	if len(a.Annotations) < bad || a.AnnotationRequests < bad/github.MaxAnnotationsPerRequest {
		t.Errorf("%d annotations in %d requests, want ≥ %d in ≥ %d", len(a.Annotations), a.AnnotationRequests, bad, bad/50)
	}
	first := a.Annotations[0]
	if first.Path != "apps/a/bad.yaml" || first.StartLine != 7 || first.Level != "failure" || !strings.Contains(first.Message, "spex") {
		t.Errorf("first annotation: %+v", first)
	}
	// The 11th object starts on line 92 (nine lines per document, after
	// "---"); its misspelled field is five lines further down.
	found := false
	for _, an := range a.Annotations {
		if strings.Contains(an.Message, "bad-10:") && an.StartLine == 97 {
			found = true
		}
	}
	if !found {
		t.Error("no annotation for bad-10 at apps/a/bad.yaml:92")
	}
	if len(a.Text) > github.MaxCheckRunText || !utf8.ValidString(a.Text) || !strings.Contains(a.Text, "cut by slipway") {
		t.Errorf("check run text: %d bytes, cut note present: %v\n%s", len(a.Text), strings.Contains(a.Text, "cut by slipway"), a.Text[len(a.Text)-300:])
	}
	for _, req := range srv.Requests() {
		if req.Status >= 400 {
			t.Errorf("GitHub refused %s %s: %d", req.Method, req.Path, req.Status)
		}
	}
	o := r.Outputs()
	if o["result"] != "failure" || o["matrix"] != `{"path":["clusters/a","clusters/b"]}` {
		t.Errorf("outputs %v", o)
	}
	if !strings.Contains(r.File("summary"), "validated only, nothing deployed") {
		t.Errorf("summary does not say why nothing was deployed")
	}
}

// Mode deploy with a cluster that cannot be reached: a failure, the
// kubeconfig's credentials nowhere.
func TestDeployUnreachableClusterKeepsCredentials(t *testing.T) {
	f := actiontest.NewFleet(t)
	after := f.Commit("base")
	srv := newServer(t, githubtest.WriteAll)
	const kubeToken = "kube-bearer-token-0123456789"
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: ` + kubeToken + `
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`
	r := actiontest.NewRunner(t, srv, f.Dir, "workflow_dispatch", map[string]any{"inputs": map[string]any{}})
	r.Env["GITHUB_SHA"] = after
	r.Env["INPUT_MODE"] = "deploy"
	r.Env["INPUT_PATH"] = "clusters/a"
	r.Env["INPUT_KUBECONFIG"] = kubeconfig
	r.Env["INPUT_TIMEOUT"] = "5s"
	ageKey, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	r.Env["INPUT_SOPS-AGE-KEY"] = string(ageKey)
	out := r.Run()
	if out.ExitCode != 1 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "::add-mask::"+kubeToken) {
		t.Error("the kubeconfig token was not registered with ::add-mask::")
	}
	runs := srv.CheckRuns()
	if len(runs) != 1 || runs[0].Name != "slipway / clusters/a" || runs[0].Conclusion != "failure" {
		t.Errorf("check runs: %+v", runs)
	}
	if !strings.Contains(r.File("summary"), "connection refused") {
		t.Errorf("summary does not say the cluster was unreachable:\n%s", r.File("summary"))
	}
	var keyLine string
	for _, l := range strings.Split(string(ageKey), "\n") {
		if strings.HasPrefix(l, "AGE-SECRET-KEY-") {
			keyLine = l
		}
	}
	actiontest.AssertNoSecrets(t, srv, r, kubeToken, actiontest.Token, actiontest.SecretValue, keyLine)
}

func TestUnknownEventIsNeutral(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Commit("base")
	srv := newServer(t, githubtest.WriteAll)
	r := actiontest.NewRunner(t, srv, f.Dir, "issues", map[string]any{})
	out := r.Run()
	if out.ExitCode != 0 || out.Result != github.ConclusionNeutral || r.Outputs()["result"] != "neutral" {
		t.Fatalf("exit %d result %s outputs %v", out.ExitCode, out.Result, r.Outputs())
	}
	if !strings.Contains(r.File("summary"), `event "issues"`) || len(srv.Requests()) != 0 {
		t.Errorf("summary:\n%s\nrequests: %d", r.File("summary"), len(srv.Requests()))
	}
}

func TestBadInputs(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Commit("base")
	for _, tc := range []struct{ key, value, want string }{
		{"INPUT_MODE", "yolo", "input mode"},
		{"INPUT_MODE", "bootstrap", "needs an administrator's kubeconfig"},
		{"INPUT_MODE", "uninstall", "needs an administrator's kubeconfig"},
		{"INPUT_PRUNE", "maybe", "input prune"},
		{"INPUT_ROOT-SOURCE", "GitRepository/flux-system", "input root-source"},
		{"INPUT_PATH", "clusters/nope", "does not exist"},
		{"INPUT_DIFF-CONTEXT", "-1", "input diff-context"},
		{"INPUT_STRIP-LABELS", "[", "not a valid pattern"},
		{"INPUT_EXTERNAL-OBJECTS", "ci/missing.yaml", "input external-objects: " + filepath.Join(f.Dir, "ci/missing.yaml")},
		{"INPUT_EXTERNAL-OBJECTS", "apps/a/namespace.yaml", "namespace.yaml:1: Namespace app-a: only v1 ConfigMaps and Secrets"},
		{"INPUT_SOPS-VAULT-TOKEN", "hvs.bad-input-token", "input sops-vault-token: needs sops-vault-addresses"},
		{"INPUT_SOPS-CLOUD-CREDENTIALS", "perhaps", "input sops-cloud-credentials"},
		{"INPUT_SOPS-PGP-KEY", "not-a-key-61c0", "parsing PGP key: no armored PGP private key block"},
	} {
		r := actiontest.NewRunner(t, nil, f.Dir, "workflow_dispatch", map[string]any{})
		r.Env[tc.key] = tc.value
		out := r.Run()
		if out.ExitCode != 1 || !strings.Contains(r.Log.String(), tc.want) || !strings.Contains(r.File("summary"), tc.want) {
			t.Errorf("%s=%s: exit %d, log:\n%s", tc.key, tc.value, out.ExitCode, r.Log.String())
		}
	}
	// Mode deploy without a kubeconfig is refused before anything runs.
	r := actiontest.NewRunner(t, nil, f.Dir, "push", map[string]any{"before": github.ZeroSHA, "after": strings.Repeat("a", 40)})
	r.Env["INPUT_MODE"] = "deploy"
	if out := r.Run(); out.ExitCode != 1 || !strings.Contains(r.Log.String(), "input kubeconfig") {
		t.Errorf("deploy without kubeconfig: exit %d\n%s", out.ExitCode, r.Log.String())
	}
}

// Repository text that looks like a workflow command must not run: file
// names and messages are logged with commands stopped.
func TestUntrustedTextFenced(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"apps/a/evil.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"::add-path::/tmp/evil\"\n  namespace: app-a\nspex: {}\n"})
	after := f.Commit("evil")
	r := actiontest.NewRunner(t, nil, f.Dir, "push", map[string]any{"before": github.ZeroSHA, "after": after})
	r.Run()
	log := r.Log.String()
	i := strings.Index(log, "::add-path::")
	if i < 0 {
		t.Fatalf("the finding naming the object is not in the log:\n%s", log)
	}
	before := log[:i]
	open := strings.LastIndex(before, "::stop-commands::")
	if open < 0 {
		t.Fatalf("repository text logged with commands on:\n%s", log)
	}
	tok := strings.TrimSpace(strings.SplitN(before[open+len("::stop-commands::"):], "\n", 2)[0])
	if strings.Contains(before[open:], "::"+tok+"::") {
		t.Fatalf("commands were turned back on before the repository text:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(f.Dir, ".slipway", "summary.md")); err != nil {
		t.Errorf("summary file: %v", err)
	}
}

// The plan of a push lists the cluster paths whose build changed.
func TestPushPlanMatrix(t *testing.T) {
	f := actiontest.NewFleet(t)
	first := f.Commit("first")
	f.Write(map[string]string{"apps/b/config.yaml": actiontest.ConfigMap("b", "5")})
	second := f.Commit("bump b")
	r := actiontest.NewRunner(t, nil, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": first, "after": second})
	r.Env["GITHUB_SHA"] = second
	if out := r.Run(); out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if o := r.Outputs(); o["matrix"] != `{"path":["clusters/b"]}` || o["changed"] != "true" {
		t.Errorf("outputs %v", o)
	}
	// A force push cannot be compared with "before": every path.
	r = actiontest.NewRunner(t, nil, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": first, "after": second, "forced": true})
	r.Env["GITHUB_SHA"] = second
	r.Run()
	if o := r.Outputs(); o["matrix"] != `{"path":["clusters/a","clusters/b"]}` {
		t.Errorf("force push outputs %v", o)
	}
}

// A fork's pull request that breaks validation: no API writes, but the
// errors reach the log as annotations at file:line, and the run fails.
func TestForkPullRequestInvalid(t *testing.T) {
	f := actiontest.NewFleet(t)
	base := f.Commit("base")
	f.Write(map[string]string{"apps/b/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: app-b\nspex: {}\n"})
	head := f.Commit("break b")
	srv := newServer(t, githubtest.ReadOnly)
	r := actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(3, head, base, "someone/fleet"))
	r.Env["GITHUB_SHA"] = head
	r.Env["INPUT_MODE"] = "deploy" // ignored on pull requests
	out := r.Run()
	if out.ExitCode != 1 || out.Result != github.ConclusionFailure {
		t.Fatalf("exit %d result %s\n%s", out.ExitCode, out.Result, r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "::error endLine=6,file=apps/b/bad.yaml,line=6,title=slipway clusters/b [schema]::ConfigMap/app-b/bad: .spex") {
		t.Errorf("no annotation at apps/b/bad.yaml:6 in the log:\n%s", r.Log.String())
	}
	if !strings.Contains(r.File("summary"), "never deploys") {
		t.Error("the summary does not say why mode deploy was ignored")
	}
	for _, req := range srv.Requests() {
		if req.Method != "POST" || req.Status != 403 {
			t.Errorf("unexpected request %s %s → %d", req.Method, req.Path, req.Status)
		}
	}
}

// assertHTMLReport checks the action wrote the HTML report beside the
// summary, named it in the html-file output, and shows the changed path.
func assertHTMLReport(t *testing.T, r *actiontest.Runner, changedPath string) {
	t.Helper()
	o := r.Outputs()
	if o["html-file"] != ".slipway/report.html" {
		t.Fatalf("html-file output: %q", o["html-file"])
	}
	data, err := os.ReadFile(filepath.Join(r.Env["GITHUB_WORKSPACE"], o["html-file"]))
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	for _, want := range []string{"<!DOCTYPE html>", `<meta http-equiv="Content-Security-Policy"`, `<section id="summary"`, `<section id="validation"`,
		`data-path="` + changedPath + `" open>`, `data-name="flux-system/apps"`} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}
