package action_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/action"
	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// GitHub failing in every way slipway knows must never change what a run
// decides: the outcome, the exit code and the result output are those of
// a run against a healthy GitHub, for a valid and for a broken commit.
func TestReportingFailuresNeverChangeOutcome(t *testing.T) {
	faults := map[string][]githubtest.Fault{
		"healthy":            nil,
		"persistent 502":     {{Status: http.StatusBadGateway}},
		"completion refused": {githubtest.Refuse("PATCH", githubtest.PathCheckRun, 0, 422, "Validation Failed")},
		"everything refused": {
			githubtest.Refuse("PATCH", githubtest.PathCheckRun, 0, 422, "Validation Failed"),
			githubtest.Refuse("POST", githubtest.PathStatuses, 0, 403, "Resource not accessible by integration"),
		},
		"rate limited for an hour": {githubtest.PrimaryRateLimit("", "", 0, time.Now().Add(time.Hour))},
		"429 on every update":      {githubtest.TooManyRequests("PATCH", "", 0, 1)},
	}
	for _, broken := range []bool{false, true} {
		f := actiontest.NewFleet(t)
		if broken {
			f.Write(map[string]string{"apps/a/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: app-a\nspex: {}\n"})
		}
		after := f.Commit("commit")
		want := github.ConclusionSuccess
		if broken {
			want = github.ConclusionFailure
		}
		for name, fs := range faults {
			t.Run(fmt.Sprintf("%s/broken=%v", name, broken), func(t *testing.T) {
				srv := newServer(t, githubtest.WriteAll)
				for _, flt := range fs {
					srv.Inject(flt)
				}
				r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
				r.Env["GITHUB_SHA"] = after
				r.GitHub.Sleep = func(context.Context, time.Duration) error { return nil }
				out := r.Run()
				wantCode := 0
				if broken {
					wantCode = 1
				}
				if out.Result != want || out.ExitCode != wantCode || r.Outputs()["result"] != string(want) {
					t.Fatalf("result %s exit %d output %q, want %s and %d\n%s", out.Result, out.ExitCode, r.Outputs()["result"], want, wantCode, r.Log.String())
				}
				annotated := strings.Contains(r.Log.String(), "::error ")
				for _, cr := range srv.CheckRuns() {
					annotated = annotated || (cr.Status == "completed" && len(cr.Annotations) > 0)
				}
				if broken && !annotated {
					t.Error("the failure is annotated neither in a check run nor in the log")
				}
			})
		}
	}
}

// A check run GitHub will not complete gets a commit status of the same
// name with the outcome and a link to the run; the summary says so.
func TestRefusedCompletionFallsBackToStatus(t *testing.T) {
	f := actiontest.NewFleet(t)
	after := f.Commit("base")
	srv := newServer(t, githubtest.WriteAll)
	srv.Inject(githubtest.Refuse("PATCH", githubtest.PathCheckRun, 0, 403, "Resource not accessible by integration"))
	r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
	r.Env["GITHUB_SHA"] = after
	if out := r.Run(); out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	got := map[string]githubtest.Status{}
	for _, st := range srv.Statuses() {
		got[st.Context] = st
	}
	for _, path := range []string{"clusters/a", "clusters/b"} {
		st, ok := got["slipway / "+path]
		if !ok || st.SHA != after || st.State != "success" || st.TargetURL != "https://github.example/acme/fleet/actions/runs/42" {
			t.Errorf("status for %s: %+v", path, st)
		}
	}
	if !strings.Contains(r.File("summary"), "commit status of the same name") {
		t.Errorf("the summary does not say where the result went:\n%s", r.File("summary"))
	}
}

// Refused once, the completion is retried with a short summary that
// points at the job summary: the run ends with its conclusion.
func TestRefusedReportCompletesShort(t *testing.T) {
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"apps/a/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: app-a\nspex: {}\n"})
	after := f.Commit("break a")
	srv := newServer(t, githubtest.WriteAll)
	// clusters/a's full report (the first update) is refused.
	srv.Inject(githubtest.Refuse("PATCH", githubtest.PathCheckRun, 1, 422, "Validation Failed"))
	r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
	r.Env["GITHUB_SHA"] = after
	if out := r.Run(); out.ExitCode != 1 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	for _, cr := range srv.CheckRuns() {
		if cr.Status != "completed" {
			t.Errorf("%s left %s", cr.Name, cr.Status)
		}
		if cr.Name == "slipway / clusters/a" && (cr.Conclusion != "failure" || !strings.Contains(cr.Summary, "actions/runs/42")) {
			t.Errorf("clusters/a: conclusion %s, summary %q", cr.Conclusion, cr.Summary)
		}
	}
	// Its annotations are not in the check run: they go to the log.
	if !strings.Contains(r.Log.String(), "::error endLine=6,file=apps/a/bad.yaml") {
		t.Errorf("annotations missing from the log:\n%s", r.Log.String())
	}
	if len(srv.Statuses()) != 0 {
		t.Errorf("statuses set although the check runs completed: %+v", srv.Statuses())
	}
}

// An outage is said once, not per request, and the client stops calling.
func TestOutageReportedOnce(t *testing.T) {
	f := actiontest.NewFleet(t)
	after := f.Commit("base")
	srv := newServer(t, githubtest.WriteAll)
	srv.Inject(githubtest.Fault{Status: http.StatusBadGateway})
	r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
	r.Env["GITHUB_SHA"] = after
	var waited time.Duration
	r.GitHub.Sleep = func(_ context.Context, d time.Duration) error { waited += d; return nil }
	if out := r.Run(); out.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", out.ExitCode, r.Log.String())
	}
	if n := strings.Count(r.Log.String(), "the GitHub API is unavailable"); n != 1 {
		t.Errorf("outage reported %d times in the log:\n%s", n, r.Log.String())
	}
	if n := strings.Count(r.File("summary"), "the GitHub API is unavailable"); n != 1 {
		t.Errorf("outage reported %d times in the summary", n)
	}
	if n, max := len(srv.Requests()), github.DefaultOptions().FailureThreshold; n != max {
		t.Errorf("%d requests, want %d then none", n, max)
	}
	if waited > 10*time.Second {
		t.Errorf("waited %s for an unavailable GitHub", waited)
	}
}

// stuckDiffer stands for a slow step: planning blocks until the run is
// cancelled.
type stuckDiffer struct{ entered chan struct{} }

func (d stuckDiffer) ChangedPaths(ctx context.Context, _ action.PlanRequest) ([]string, error) {
	close(d.entered)
	<-ctx.Done()
	return nil, ctx.Err()
}

func (d stuckDiffer) Diff(ctx context.Context, _ action.DiffRequest) ([]*action.DiffResult, error) {
	return nil, errors.New("not called")
}

// Cancelled during a step (the workflow run was cancelled): no later step
// runs, every open check run ends "cancelled" although the run's context
// is done, and the summary keeps what was done.
func TestCancelledRunCompletesOpenChecks(t *testing.T) {
	f := actiontest.NewFleet(t)
	first := f.Commit("first")
	f.Write(map[string]string{"apps/b/config.yaml": actiontest.ConfigMap("b", "5")})
	second := f.Commit("bump b")
	srv := newServer(t, githubtest.WriteAll)
	r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": first, "after": second})
	r.Env["GITHUB_SHA"] = second
	d := stuckDiffer{entered: make(chan struct{})}
	r.Differ = d
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-d.entered
		cancel()
	}()
	out := r.RunContext(ctx)
	if out.Result != github.ConclusionCancelled || out.ExitCode != 1 || r.Outputs()["result"] != "cancelled" {
		t.Fatalf("result %s exit %d outputs %v\n%s", out.Result, out.ExitCode, r.Outputs(), r.Log.String())
	}
	runs := srv.CheckRuns()
	if len(runs) != 2 {
		t.Fatalf("%d check runs, want 2", len(runs))
	}
	for _, cr := range runs {
		if cr.Status != "completed" || cr.Conclusion != "cancelled" || !strings.Contains(cr.Summary, "cancelled") {
			t.Errorf("%s: %s/%s %q", cr.Name, cr.Status, cr.Conclusion, cr.Summary)
		}
	}
	sum := r.File("summary")
	if !strings.Contains(sum, "cancelled") || !strings.Contains(sum, "clusters/b") {
		t.Errorf("summary:\n%s", sum)
	}
}
