package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// fastClient records the waits it is asked for without waiting them out,
// for answers go-github does not remember (5xx, refusals, a 429 it does
// not recognise).
func fastClient(t *testing.T, tune func(*github.Options)) (*github.Client, *githubtest.Server, *[]time.Duration) {
	t.Helper()
	srv := githubtest.New("acme", "fleet")
	t.Cleanup(srv.Close)
	srv.AddToken("tok", githubtest.WriteAll)
	waits := &[]time.Duration{}
	o := github.DefaultOptions()
	o.Token, o.Repository, o.APIURL = "tok", "acme/fleet", srv.URL
	o.Sleep = func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil }
	if tune != nil {
		tune(&o)
	}
	c, err := github.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, waits
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

func annotations(n int) []github.Annotation {
	var as []github.Annotation
	for i := range n {
		as = append(as, github.Annotation{Path: "apps/x.yaml", StartLine: i + 1, Level: github.LevelFailure, Message: fmt.Sprint("bad ", i)})
	}
	return as
}

// A refused completion is retried with the short summary only: the run
// ends, with its conclusion, pointing at the job summary.
func TestCompletionRefusedFallsBackToShortSummary(t *testing.T) {
	c, srv, _ := fastClient(t, nil)
	ctx := context.Background()
	run, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if err != nil {
		t.Fatal(err)
	}
	// The completing request (the only PATCH without earlier batches).
	srv.Inject(githubtest.Refuse("PATCH", githubtest.PathCheckRun, 1, http.StatusUnprocessableEntity, "Validation Failed"))
	done, err := c.CompleteCheckRun(ctx, run, github.ConclusionFailure, github.Output{Title: "deploy failed", Summary: "long report", Text: "details", Annotations: annotations(3), ShortSummary: "see https://example.invalid/run"})
	var ae *github.APIError
	if done != github.CompletedShort || !errors.As(err, &ae) || ae.Status != 422 {
		t.Fatalf("completion %v, err %v: want CompletedShort and the 422", done, err)
	}
	cr := srv.CheckRuns()[0]
	if cr.Status != "completed" || cr.Conclusion != "failure" || cr.Title != "deploy failed" || cr.Summary != "see https://example.invalid/run" || cr.Text != "" || len(cr.Annotations) != 0 {
		t.Errorf("run after the short completion: %+v", cr)
	}
}

// Refused twice: the run stays in progress and the caller is told so.
func TestCompletionRefusedTwice(t *testing.T) {
	c, srv, _ := fastClient(t, nil)
	ctx := context.Background()
	run, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(githubtest.Refuse("PATCH", githubtest.PathCheckRun, 0, http.StatusForbidden, "Resource not accessible by integration"))
	done, err := c.CompleteCheckRun(ctx, run, github.ConclusionSuccess, github.Output{Title: "ok", Summary: "ok"})
	if done != github.NotCompleted || !github.IsForbidden(err) {
		t.Fatalf("completion %v, err %v: want NotCompleted, forbidden", done, err)
	}
	if st := srv.CheckRuns()[0].Status; st != "in_progress" {
		t.Errorf("status %s", st)
	}
}

// Refused annotation batches do not stop the completion.
func TestRefusedAnnotationBatchesDoNotStopCompletion(t *testing.T) {
	c, srv, _ := fastClient(t, nil)
	ctx := context.Background()
	run, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if err != nil {
		t.Fatal(err)
	}
	// The first two of three requests carry 50 annotations each.
	srv.Inject(githubtest.Refuse("PATCH", githubtest.PathCheckRun, 2, http.StatusUnprocessableEntity, "Validation Failed"))
	done, err := c.CompleteCheckRun(ctx, run, github.ConclusionFailure, github.Output{Title: "t", Summary: "s", Annotations: annotations(123)})
	var ae *github.AnnotationsError
	if done != github.CompletedFull || !errors.As(err, &ae) || ae.Refused != 2 || ae.Batches != 3 {
		t.Fatalf("completion %v, err %v: want CompletedFull and 2 of 3 batches refused", done, err)
	}
	cr := srv.CheckRuns()[0]
	if cr.Conclusion != "failure" || len(cr.Annotations) != 23 {
		t.Errorf("conclusion %q, %d annotations: want failure and the last 23", cr.Conclusion, len(cr.Annotations))
	}
}

// A 429 with Retry-After and a body that does not name secondary limits
// is a rate limit (go-github calls it a plain ErrorResponse): waited out.
// A 403 with Retry-After likewise; a 403 without it is a refusal.
func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	c, srv, waits := fastClient(t, nil)
	ctx := context.Background()
	srv.Inject(githubtest.TooManyRequests("POST", githubtest.PathStatuses, 2, 7))
	if err := c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", ""); err != nil {
		t.Fatalf("after two 429s: %v", err)
	}
	if fmt.Sprint(*waits) != "[7s 7s]" || len(srv.Statuses()) != 1 {
		t.Errorf("waits %v, %d statuses: want 7s twice and the status", *waits, len(srv.Statuses()))
	}
	*waits = nil
	f := githubtest.Refuse("POST", githubtest.PathStatuses, 1, http.StatusForbidden, "slow down")
	f.Header = map[string]string{"Retry-After": "3"}
	srv.Inject(f)
	if err := c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", ""); err != nil || fmt.Sprint(*waits) != "[3s]" {
		t.Errorf("403 with Retry-After: %v, waits %v", err, *waits)
	}
	*waits = nil
	srv.Inject(githubtest.Refuse("POST", githubtest.PathStatuses, 1, http.StatusForbidden, "Resource not accessible by integration"))
	if err := c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", ""); !github.IsForbidden(err) || len(*waits) != 0 {
		t.Errorf("403 without Retry-After: %v, waits %v; want forbidden at once", err, *waits)
	}
}

// A primary limit (x-ratelimit-remaining: 0) is waited out until its
// reset, for real: go-github refuses locally until then.
func TestPrimaryRateLimitWaitsForReset(t *testing.T) {
	c, srv, waits := newClient(t, githubtest.WriteAll)
	srv.Inject(githubtest.PrimaryRateLimit("", "", 1, time.Now().Add(time.Second)))
	start := time.Now()
	if err := c.CreateStatus(context.Background(), sha, "ctx", github.StatePending, "d", ""); err != nil {
		t.Fatalf("after a primary limit: %v", err)
	}
	if len(*waits) != 1 || (*waits)[0] < time.Second || time.Since(start) < time.Second {
		t.Errorf("waits %v: want one until the reset", *waits)
	}
	// A reset an hour away is not waited for.
	srv.Inject(githubtest.PrimaryRateLimit("", "", 1, time.Now().Add(time.Hour)))
	err := c.CreateStatus(context.Background(), sha, "ctx", github.StatePending, "d", "")
	var rl *github.RateLimitedError
	if !errors.As(err, &rl) || len(*waits) != 1 {
		t.Errorf("hour-long limit: %v, waits %v", err, *waits)
	}
}

// The budget bounds waiting across requests, not per request.
func TestRetryBudgetSharedAcrossRequests(t *testing.T) {
	c, srv, waits := fastClient(t, func(o *github.Options) { o.RetryBudget = 5 * time.Second })
	srv.Inject(githubtest.TooManyRequests("", "", 0, 2))
	ctx := context.Background()
	var rl *github.RateLimitedError
	if err := c.CreateStatus(ctx, sha, "a", github.StatePending, "d", ""); !errors.As(err, &rl) {
		t.Fatalf("first request: %v, want RateLimitedError", err)
	}
	before := len(srv.Requests())
	if err := c.CreateStatus(ctx, sha, "b", github.StatePending, "d", ""); !errors.As(err, &rl) {
		t.Fatalf("second request: %v, want RateLimitedError", err)
	}
	if total := sum(*waits); total > 5*time.Second || total != 4*time.Second {
		t.Errorf("waited %v in all (%v), want 4s within the 5s budget", total, *waits)
	}
	if n := len(srv.Requests()) - before; n != 1 {
		t.Errorf("second request tried %d times, want once (no budget left to wait)", n)
	}
}

// A persistent 502 during a report of 1,200 annotations: the client gives
// up after FailureThreshold failures (7 s of backoff), then fails fast
// without calling GitHub, with a typed error.
func TestPersistentServerErrorOpensBreaker(t *testing.T) {
	c, srv, waits := fastClient(t, nil)
	ctx := context.Background()
	run, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(githubtest.Fault{Status: http.StatusBadGateway})
	done, err := c.CompleteCheckRun(ctx, run, github.ConclusionFailure, github.Output{Title: "t", Summary: "s", Annotations: annotations(1200)})
	if done != github.NotCompleted || !github.IsUnavailable(err) {
		t.Fatalf("completion %v, err %v: want NotCompleted, unavailable", done, err)
	}
	threshold := github.DefaultOptions().FailureThreshold
	if got := len(srv.Requests()) - 1; got != threshold {
		t.Errorf("%d requests during the outage, want %d", got, threshold)
	}
	if total := sum(*waits); total != 7*time.Second {
		t.Errorf("backoff %v (%v), want 7s", total, *waits)
	}
	before := len(srv.Requests())
	err = c.CreateStatus(ctx, sha, "ctx", github.StateFailure, "d", "")
	var ue *github.UnavailableError
	if !errors.As(err, &ue) || ue.Failures != threshold || github.IsForbidden(err) || len(srv.Requests()) != before {
		t.Errorf("after the breaker opened: %v, %d more requests; want UnavailableError without calling", err, len(srv.Requests())-before)
	}
}

// Failures in a row open the breaker; an answer in between resets it.
func TestBreakerCountsFailuresInARow(t *testing.T) {
	c, srv, _ := fastClient(t, func(o *github.Options) { o.MaxRetries = 0; o.FailureThreshold = 3 })
	ctx := context.Background()
	for range 4 {
		srv.Inject(githubtest.Fault{Times: 2, Status: http.StatusServiceUnavailable})
		for range 2 {
			if err := c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", ""); err == nil || github.IsUnavailable(err) {
				t.Fatalf("503: %v", err)
			}
		}
		if err := c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", ""); err != nil {
			t.Fatalf("an answer after two failures: %v", err)
		}
	}
	srv.Inject(githubtest.Fault{Times: 3, Status: http.StatusServiceUnavailable})
	for range 2 {
		_ = c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", "")
	}
	if err := c.CreateStatus(ctx, sha, "ctx", github.StatePending, "d", ""); !github.IsUnavailable(err) {
		t.Errorf("third failure in a row: %v, want unavailable", err)
	}
}
