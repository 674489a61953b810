package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// multiByte mixes 2-, 3- and 4-byte UTF-8 sequences with ASCII, so a cut
// at any byte offset may fall inside a character.
const multiByte = "é 日本語 🚀 ✓ ConfigMap"

// Cut by bytes, on UTF-8 boundaries, at every limit: never more than the
// limit, never invalid text, and the note whenever something was left out
// and there is room for it.
func TestTruncateByBytesOnRuneBoundaries(t *testing.T) {
	s := strings.Repeat(multiByte+"\n", 40)
	for limit := 0; limit <= len(s)+1; limit++ {
		for name, got := range map[string]string{"Truncate": github.Truncate(s, limit), "Truncate1": github.Truncate1(s, limit)} {
			if len(got) > limit || !utf8.ValidString(got) {
				t.Fatalf("%s(%d): %d bytes, valid UTF-8 %v", name, limit, len(got), utf8.ValidString(got))
			}
			if limit >= len(s) && got != s {
				t.Fatalf("%s(%d) changed a text that fits", name, limit)
			}
		}
		if got := github.Truncate(s, limit); limit < len(s) && limit > 200 && !strings.Contains(got, "cut by slipway") {
			t.Fatalf("Truncate(%d): no note saying the text was cut", limit)
		}
	}
}

// 1,500 findings in accented, Japanese and emoji text are fewer than 65535
// characters but more than 65535 bytes: GitHub (and the fake) refuse them
// uncut; slipway's cut report is accepted and says it was cut.
func TestCheckRunOutputCutByBytes(t *testing.T) {
	c, srv, _ := newClient(t, githubtest.WriteAll)
	var b strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&b, "- é/日本語/🚀 %d: 設定が不正です\n", i)
	}
	report := b.String()
	if n := utf8.RuneCountInString(report); n > github.MaxCheckRunText || len(report) <= github.MaxCheckRunText {
		t.Fatalf("fixture: %d characters, %d bytes; want ≤ 65535 characters and > 65535 bytes", n, len(report))
	}
	ctx := context.Background()
	run, err := c.CreateCheckRun(ctx, "slipway / clusters/a", sha, "")
	if err != nil {
		t.Fatal(err)
	}
	// The fake refuses the uncut text as GitHub does.
	body, _ := json.Marshal(map[string]any{"output": map[string]any{"title": "t", "summary": report}})
	req, _ := newRequest("PATCH", fmt.Sprintf("%s/repos/acme/fleet/check-runs/%d", srv.URL, run.ID), string(body), "tok")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(answer), "summary exceeds a maximum bytesize of 65535") {
		t.Fatalf("uncut summary: %d %s, want GitHub's 422", resp.StatusCode, answer)
	}

	done, err := c.CompleteCheckRun(ctx, run, github.ConclusionFailure, github.Output{Title: "1500 findings 日本語", Summary: report, Text: report})
	if err != nil || done != github.CompletedFull {
		t.Fatalf("completion %v: %v", done, err)
	}
	cr := srv.CheckRuns()[0]
	for name, s := range map[string]string{"summary": cr.Summary, "text": cr.Text} {
		if len(s) > github.MaxCheckRunSummary || !utf8.ValidString(s) || !strings.Contains(s, "cut by slipway") {
			t.Errorf("%s: %d bytes, valid %v, cut note %v", name, len(s), utf8.ValidString(s), strings.Contains(s, "cut by slipway"))
		}
		if !strings.HasPrefix(report, s[:1000]) {
			t.Errorf("%s does not start with the report", name)
		}
	}
}
