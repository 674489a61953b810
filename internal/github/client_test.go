package github_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func newClient(t *testing.T, perms githubtest.Permissions) (*github.Client, *githubtest.Server, *[]time.Duration) {
	t.Helper()
	srv := githubtest.New("acme", "fleet")
	t.Cleanup(srv.Close)
	srv.AddToken("tok", perms)
	var waits []time.Duration
	o := github.DefaultOptions()
	o.Token, o.Repository, o.APIURL = "tok", "acme/fleet", srv.URL
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c, err := github.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, &waits
}

func TestCheckRunAnnotationsInBatches(t *testing.T) {
	c, srv, _ := newClient(t, githubtest.WriteAll)
	ctx := context.Background()
	run, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if err != nil {
		t.Fatal(err)
	}
	var as []github.Annotation
	for i := range 123 {
		as = append(as, github.Annotation{Path: "apps/x.yaml", StartLine: i + 1, Level: github.LevelFailure, Message: fmt.Sprint("bad ", i)})
	}
	huge := strings.Repeat("é long line of text\n", 10000) // > 65535 characters
	if done, err := c.CompleteCheckRun(ctx, run, github.ConclusionFailure, github.Output{Title: "t", Summary: huge, Text: huge, Annotations: as}); err != nil || done != github.CompletedFull {
		t.Fatalf("completion %v: %v", done, err)
	}
	runs := srv.CheckRuns()
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	cr := runs[0]
	if cr.Status != "completed" || cr.Conclusion != "failure" || cr.HeadSHA != sha {
		t.Errorf("run: %+v", cr)
	}
	if len(cr.Annotations) != 123 || cr.AnnotationRequests != 3 {
		t.Errorf("annotations %d in %d requests, want 123 in 3", len(cr.Annotations), cr.AnnotationRequests)
	}
	for _, s := range []string{cr.Summary, cr.Text} {
		if n := len(s); n > github.MaxCheckRunSummary || !utf8.ValidString(s) || !strings.Contains(s, "cut by slipway") {
			t.Errorf("output not cut with a note: %d bytes", n)
		}
	}
}

// The fake must refuse what GitHub refuses, or the tests above prove nothing.
func TestFakeEnforcesLimits(t *testing.T) {
	srv := githubtest.New("acme", "fleet")
	defer srv.Close()
	srv.AddToken("tok", githubtest.WriteAll)
	post := func(token, path, body string) int {
		req, _ := newRequest("POST", srv.URL+path, body, token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"`+sha+`"}`); got != 401 {
		t.Errorf("no token: %d, want 401", got)
	}
	var anns []string
	for range 51 {
		anns = append(anns, `{"path":"a","start_line":1,"end_line":1,"annotation_level":"failure","message":"m"}`)
	}
	if got := post("tok", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"`+sha+`","output":{"title":"t","summary":"s","annotations":[`+strings.Join(anns, ",")+`]}}`); got != 422 {
		t.Errorf("51 annotations: %d, want 422", got)
	}
	if got := post("tok", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"`+sha+`","output":{"title":"t","summary":"`+strings.Repeat("a", 65536)+`"}}`); got != 422 {
		t.Errorf("long summary: %d, want 422", got)
	}
	if got := post("tok", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"`+sha+`","conclusion":"great"}`); got != 422 {
		t.Errorf("bad conclusion: %d, want 422", got)
	}
	if got := post("tok", "/repos/acme/fleet/issues/1/comments", `{"body":"`+strings.Repeat("a", 65537)+`"}`); got != 422 {
		t.Errorf("long comment: %d, want 422", got)
	}
}

func TestForbiddenAndStatuses(t *testing.T) {
	c, srv, _ := newClient(t, githubtest.Permissions{Statuses: true})
	ctx := context.Background()
	_, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if !github.IsForbidden(err) {
		t.Fatalf("want forbidden, got %v", err)
	}
	if err := c.CreateStatus(ctx, sha, "slipway / clusters/a", github.StateSuccess, strings.Repeat("long ", 100), ""); err != nil {
		t.Fatal(err)
	}
	st := srv.Statuses()
	if len(st) != 1 || st[0].Context != "slipway / clusters/a" || st[0].State != "success" {
		t.Errorf("statuses: %+v", st)
	}
}

func TestRateLimitRetried(t *testing.T) {
	c, srv, waits := newClient(t, githubtest.WriteAll)
	// go-github remembers a secondary limit and refuses requests until it
	// passes, so the retry must really wait: Retry-After 1 s.
	srv.RateLimitNext(1, 1)
	start := time.Now()
	if err := c.CreateStatus(context.Background(), sha, "ctx", github.StatePending, "d", ""); err != nil {
		t.Fatalf("after a secondary limit: %v", err)
	}
	if len(*waits) != 1 || (*waits)[0] != time.Second || time.Since(start) < time.Second {
		t.Errorf("waits %v, want one of 1s, honoured", *waits)
	}
	if len(srv.Statuses()) != 1 {
		t.Error("status not created after retrying")
	}
	// A wait longer than MaxRetryWait: give up at once with a typed error,
	// which is not "forbidden".
	srv.RateLimitNext(1, 3600)
	err := c.CreateStatus(context.Background(), sha, "ctx", github.StatePending, "d", "")
	var rl *github.RateLimitedError
	if !errors.As(err, &rl) || github.IsForbidden(err) || len(*waits) != 1 {
		t.Fatalf("want RateLimitedError without waiting, got %v (waits %v)", err, *waits)
	}
}

func TestSyncCommentInPlace(t *testing.T) {
	c, srv, _ := newClient(t, githubtest.WriteAll)
	ctx := context.Background()
	// Enough other comments to need several pages.
	for i := range 150 {
		srv.AddComment(7, fmt.Sprint("chatter ", i))
	}
	marker := github.CommentMarker("diff", "clusters/a")
	srv.AddComment(7, "> "+marker+"\nquoted, not ours")
	steps := []struct {
		body string
		want github.CommentAction
	}{
		{"first", github.CommentCreated},
		{"second", github.CommentUpdated},
		{"second", github.CommentUnchanged},
		{"", github.CommentDeleted},
		{"", github.CommentNone},
	}
	for _, s := range steps {
		got, err := c.SyncComment(ctx, 7, marker, s.body)
		if err != nil || got != s.want {
			t.Fatalf("SyncComment(%q) = %s, %v; want %s", s.body, got, err, s.want)
		}
		ours := 0
		for _, cm := range srv.Comments(7) {
			if strings.HasPrefix(cm.Body, marker) {
				ours++
				if !strings.Contains(cm.Body, s.body) {
					t.Errorf("comment body %q lacks %q", cm.Body, s.body)
				}
			}
		}
		if want := map[bool]int{true: 0, false: 1}[s.body == ""]; ours != want {
			t.Errorf("after %q: %d comments of ours, want %d", s.body, ours, want)
		}
	}
	if got, err := c.SyncComment(ctx, 7, marker, strings.Repeat("x", 70000)); err != nil || got != github.CommentCreated {
		t.Fatalf("huge comment: %s %v", got, err)
	}
}

func TestReadEvent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ev, err := github.ReadEvent("pull_request", write("pr.json", `{"action":"synchronize","number":5,"pull_request":{"head":{"sha":"`+sha+`","repo":{"full_name":"fork/fleet"}},"base":{"sha":"b","ref":"main","repo":{"full_name":"acme/fleet"}}}}`))
	if err != nil || ev.PullRequest.Number != 5 || ev.PullRequest.HeadSHA != sha || !ev.PullRequest.FromFork() {
		t.Fatalf("%+v %v", ev, err)
	}
	ev, err = github.ReadEvent("push", write("push.json", `{"before":"`+github.ZeroSHA+`","after":"`+sha+`","ref":"refs/heads/x"}`))
	if err != nil || !ev.Push.NewRef() {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := github.ReadEvent("push", write("bad.json", `{"after":`)); err == nil {
		t.Fatal("truncated payload accepted")
	}
	ev, err = github.ReadEvent("schedule", "")
	if err != nil || ev.Push != nil || ev.PullRequest != nil {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestRuntimeOutputsAndSummary(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "out"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"INPUT_GITHUB-TOKEN":  " tok ",
	}
	var log strings.Builder
	rt := github.NewRuntime(func(k string) string { return env[k] }, &log)
	if rt.Input("github-token") != "tok" {
		t.Error("input with a hyphen not read")
	}
	if err := rt.SetOutput("matrix", "line1\nEOF\nline3"); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	head, _, _ := strings.Cut(string(out), "\n")
	name, delim, ok := strings.Cut(head, "<<")
	if !ok || name != "matrix" || !strings.HasSuffix(string(out), "\n"+delim+"\n") || !strings.Contains(string(out), "line1\nEOF\nline3\n") {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	for range 3 {
		if err := rt.AppendSummary(strings.Repeat("row of the summary\n", 30000)); err != nil {
			t.Fatal(err)
		}
	}
	sum, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if len(sum) > github.MaxStepSummaryBytes || !strings.Contains(string(sum), "cut by slipway") {
		t.Errorf("summary %d bytes, want ≤ %d with a note", len(sum), github.MaxStepSummaryBytes)
	}
	rt.Untrusted("::add-path::/evil\n::stop-commands::x")
	lines := strings.Split(log.String(), "\n")
	if !strings.HasPrefix(lines[0], "::stop-commands::slipway-") || lines[len(lines)-2] != "::"+strings.TrimPrefix(lines[0], "::stop-commands::")+"::" {
		t.Errorf("untrusted text not fenced:\n%s", log.String())
	}
}

// Server errors pass: retried with backoff, then given up with the status.
func TestServerErrorsRetried(t *testing.T) {
	srv := githubtest.New("acme", "fleet")
	t.Cleanup(srv.Close)
	srv.AddToken("tok", githubtest.WriteAll)
	waits := &[]time.Duration{}
	o := github.DefaultOptions()
	o.Token, o.Repository, o.APIURL = "tok", "acme/fleet", srv.URL
	// Record the backoff without waiting it out: nothing here depends on time.
	o.Sleep = func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil }
	c, err := github.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(2, http.StatusBadGateway)
	if err := c.CreateStatus(context.Background(), sha, "ctx", github.StatePending, "d", ""); err != nil {
		t.Fatalf("after two 502s: %v", err)
	}
	if fmt.Sprint(*waits) != "[1s 2s]" || len(srv.Statuses()) != 1 {
		t.Errorf("waits %v, statuses %d: want backoff 1s, 2s and the status created", *waits, len(srv.Statuses()))
	}
	*waits = nil
	srv.FailNext(10, http.StatusServiceUnavailable)
	err = c.CreateStatus(context.Background(), sha, "ctx", github.StatePending, "d", "")
	var ae *github.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || len(*waits) != 3 {
		t.Errorf("after persistent 503s: %v (waits %v), want an APIError with the status after 3 retries", err, *waits)
	}
}

// The fake checks request bodies against GitHub's published OpenAPI
// description (githubtest/testdata/openapi-requests.json), so a body
// GitHub would refuse for its shape fails the tests too — and every body
// slipway sends in the other tests passes it.
func TestFakeValidatesRequestsAgainstOpenAPI(t *testing.T) {
	srv := githubtest.New("acme", "fleet")
	defer srv.Close()
	srv.AddToken("tok", githubtest.WriteAll)
	send := func(method, path, body string) (int, string) {
		req, _ := newRequest(method, srv.URL+path, body, "tok")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	for _, tc := range []struct{ method, path, body, want string }{
		{"POST", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"` + sha + `","started_at":"yesterday"}`, "not a date-time"},
		{"POST", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"` + sha + `","output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":"1","end_line":1,"annotation_level":"failure","message":"m"}]}}`, "is not a integer"},
		{"POST", "/repos/acme/fleet/check-runs", `{"name":"x"}`, `\"head_sha\" wasn't supplied`},
		{"POST", "/repos/acme/fleet/statuses/" + sha, `{"context":"c"}`, `\"state\" wasn't supplied`},
		{"POST", "/repos/acme/fleet/issues/1/comments", `{"body":7}`, "is not a string"},
	} {
		status, body := send(tc.method, tc.path, tc.body)
		if status != 422 || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %s, want 422 with %q", tc.method, tc.path, tc.body, status, body, tc.want)
		}
	}
	// A valid completion passes the schema's anyOf (completed needs a
	// conclusion).
	status, body := send("POST", "/repos/acme/fleet/check-runs", `{"name":"x","head_sha":"`+sha+`","status":"completed","conclusion":"cancelled","completed_at":"2026-01-02T03:04:05Z"}`)
	if status != 201 {
		t.Errorf("valid completed check run: %d %s", status, body)
	}
}
