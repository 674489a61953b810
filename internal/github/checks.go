package github

import (
	"context"
	"errors"
	"fmt"
	"time"

	gh "github.com/google/go-github/v84/github"
)

// Conclusion is a completed check run's verdict.
type Conclusion string

// Conclusions slipway uses (GitHub also knows cancelled, skipped,
// timed_out and action_required).
const (
	ConclusionSuccess Conclusion = "success"
	ConclusionFailure Conclusion = "failure"
	ConclusionNeutral Conclusion = "neutral"
)

// AnnotationLevel is how serious an annotation is.
type AnnotationLevel string

// Annotation levels, as the Checks API names them.
const (
	LevelNotice  AnnotationLevel = "notice"
	LevelWarning AnnotationLevel = "warning"
	LevelFailure AnnotationLevel = "failure"
)

// Annotation points at a line of a repository file.
type Annotation struct {
	// Path is relative to the repository root, forward slashes.
	Path      string
	StartLine int
	EndLine   int
	Level     AnnotationLevel
	Title     string
	Message   string
}

func (a Annotation) api() *gh.CheckRunAnnotation {
	start := max(a.StartLine, 1)
	end := max(a.EndLine, start)
	return &gh.CheckRunAnnotation{
		Path:            gh.Ptr(a.Path),
		StartLine:       gh.Ptr(start),
		EndLine:         gh.Ptr(end),
		AnnotationLevel: gh.Ptr(string(a.Level)),
		Title:           gh.Ptr(Truncate(a.Title, maxAnnotationTitle)),
		Message:         gh.Ptr(Truncate(a.Message, maxAnnotationMessage)),
	}
}

// Output is a check run's report. Summary and Text are cut to GitHub's
// limits; Annotations are sent MaxAnnotationsPerRequest at a time.
type Output struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// CheckRun is a check run slipway created.
type CheckRun struct {
	ID   int64
	Name string
}

// CreateCheckRun creates a check run named name on headSHA, in progress.
func (c *Client) CreateCheckRun(ctx context.Context, name, headSHA, detailsURL string) (*CheckRun, error) {
	opts := gh.CreateCheckRunOptions{
		Name:      name,
		HeadSHA:   headSHA,
		Status:    gh.Ptr("in_progress"),
		StartedAt: &gh.Timestamp{Time: time.Now()},
		Output: &gh.CheckRunOutput{
			Title:   gh.Ptr("Running"),
			Summary: gh.Ptr("slipway is running."),
		},
	}
	if detailsURL != "" {
		opts.DetailsURL = gh.Ptr(detailsURL)
	}
	var run *gh.CheckRun
	err := c.call(ctx, fmt.Sprintf("creating check run %q", name), func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		run, resp, err = c.gh.Checks.CreateCheckRun(ctx, c.owner, c.repo, opts)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	return &CheckRun{ID: run.GetID(), Name: name}, nil
}

// CompleteCheckRun sends out and the conclusion. GitHub takes at most
// MaxAnnotationsPerRequest annotations per request and appends those of
// each update, so the first batches go in updates that leave the run in
// progress and the last one completes it. A failing batch does not stop
// the completion: a run left in progress would block merges.
func (c *Client) CompleteCheckRun(ctx context.Context, run *CheckRun, conclusion Conclusion, out Output) error {
	summary := Truncate(out.Summary, MaxCheckRunSummary)
	text := Truncate(out.Text, MaxCheckRunText)
	title := Truncate(out.Title, maxAnnotationTitle)
	batches := batch(out.Annotations, MaxAnnotationsPerRequest)
	var errs []error
	for i, b := range batches {
		last := i == len(batches)-1
		o := gh.UpdateCheckRunOptions{
			Name:   run.Name,
			Output: &gh.CheckRunOutput{Title: gh.Ptr(title), Summary: gh.Ptr(summary), Annotations: b},
		}
		if last {
			o.Status = gh.Ptr("completed")
			o.Conclusion = gh.Ptr(string(conclusion))
			o.CompletedAt = &gh.Timestamp{Time: time.Now()}
			o.Output.Text = gh.Ptr(text)
		}
		op := fmt.Sprintf("updating check run %q (annotations %d/%d)", run.Name, i+1, len(batches))
		if err := c.call(ctx, op, func() (*gh.Response, error) {
			_, resp, err := c.gh.Checks.UpdateCheckRun(ctx, c.owner, c.repo, run.ID, o)
			return resp, err
		}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// batch splits annotations into request-sized groups; always at least one
// (possibly empty) group, so completing takes one request.
func batch(as []Annotation, size int) [][]*gh.CheckRunAnnotation {
	out := [][]*gh.CheckRunAnnotation{nil}
	for _, a := range as {
		cur := out[len(out)-1]
		if len(cur) == size {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], a.api())
	}
	return out
}

// StatusState is a commit status state.
type StatusState string

// Commit status states.
const (
	StatePending StatusState = "pending"
	StateSuccess StatusState = "success"
	StateFailure StatusState = "failure"
	StateError   StatusState = "error"
)

// CreateStatus sets the commit status of context on sha. It is the
// fallback when check runs cannot be created: a token with
// `statuses: write` but no `checks: write`.
func (c *Client) CreateStatus(ctx context.Context, sha, context string, state StatusState, description, targetURL string) error {
	st := gh.RepoStatus{
		State:       gh.Ptr(string(state)),
		Context:     gh.Ptr(context),
		Description: gh.Ptr(Truncate1(description, MaxStatusDescription)),
	}
	if targetURL != "" {
		st.TargetURL = gh.Ptr(targetURL)
	}
	return c.call(ctx, fmt.Sprintf("setting commit status %q", context), func() (*gh.Response, error) {
		_, resp, err := c.gh.Repositories.CreateStatus(ctx, c.owner, c.repo, sha, st)
		return resp, err
	})
}

// Truncate1 cuts a one-line text to limit characters with an ellipsis,
// for fields too short for Truncate's note.
func Truncate1(s string, limit int) string {
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	return string(r[:limit-1]) + "…"
}
