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

// Conclusions slipway uses (GitHub also knows skipped, timed_out and
// action_required).
const (
	ConclusionSuccess Conclusion = "success"
	ConclusionFailure Conclusion = "failure"
	ConclusionNeutral Conclusion = "neutral"
	// ConclusionCancelled ends the check runs of a workflow run that was
	// cancelled: left in progress they would block merging.
	ConclusionCancelled Conclusion = "cancelled"
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
		Title:           gh.Ptr(Truncate1(a.Title, maxAnnotationTitle)),
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
	// ShortSummary replaces Summary, without Text and Annotations, when
	// GitHub refuses the full report; it should say where the full
	// report is. "" means DefaultShortSummary.
	ShortSummary string
}

// DefaultShortSummary is the summary of a check run whose full report
// GitHub refused.
const DefaultShortSummary = "GitHub refused slipway's full report: it is in the job summary of the workflow run."

// Completion says how far CompleteCheckRun got.
type Completion int

const (
	// NotCompleted: GitHub refused to complete the run; it is still in
	// progress and will block merging if it is a required check.
	NotCompleted Completion = iota
	// CompletedShort: the run has its conclusion and the short summary;
	// GitHub refused the full report.
	CompletedShort
	// CompletedFull: the run has its conclusion and the full report
	// (annotation batches may still have been refused; see the error).
	CompletedFull
)

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

// CompleteCheckRun sends out and the conclusion, and says how far it got;
// the error tells what GitHub refused on the way. GitHub takes at most
// MaxAnnotationsPerRequest annotations per request and appends those of
// each update, so the first batches go in updates that leave the run in
// progress and the last one completes it. Nothing refused before stops the
// completion, and a refused completion is retried once with the title and
// out.ShortSummary only: a run left in progress would block merges.
func (c *Client) CompleteCheckRun(ctx context.Context, run *CheckRun, conclusion Conclusion, out Output) (Completion, error) {
	title := Truncate1(out.Title, maxAnnotationTitle)
	batches := batch(out.Annotations, MaxAnnotationsPerRequest)
	last := batches[len(batches)-1]
	batchErr := c.annotate(ctx, run, title, Truncate(out.Summary, MaxCheckRunSummary), batches[:len(batches)-1])
	if IsUnavailable(batchErr) {
		last = nil
	}
	full := &gh.CheckRunOutput{
		Title:       gh.Ptr(title),
		Summary:     gh.Ptr(Truncate(out.Summary, MaxCheckRunSummary)),
		Text:        gh.Ptr(Truncate(out.Text, MaxCheckRunText)),
		Annotations: last,
	}
	fullErr := c.complete(ctx, run, conclusion, full, "completing check run %q")
	if fullErr == nil {
		return CompletedFull, batchErr
	}
	short := out.ShortSummary
	if short == "" {
		short = DefaultShortSummary
	}
	shortOut := &gh.CheckRunOutput{Title: gh.Ptr(title), Summary: gh.Ptr(Truncate(short, MaxCheckRunSummary))}
	if err := c.complete(ctx, run, conclusion, shortOut, "completing check run %q with a short summary"); err != nil {
		return NotCompleted, errors.Join(batchErr, fullErr, err)
	}
	return CompletedShort, errors.Join(batchErr, fullErr)
}

// annotate sends annotation batches in updates that leave run in progress.
// It goes on past a refused batch (the others may be fine) but not past an
// unavailable API, and returns the first error with a count.
func (c *Client) annotate(ctx context.Context, run *CheckRun, title, summary string, batches [][]*gh.CheckRunAnnotation) error {
	var first error
	refused := 0
	for i, b := range batches {
		o := gh.UpdateCheckRunOptions{
			Name:   run.Name,
			Output: &gh.CheckRunOutput{Title: gh.Ptr(title), Summary: gh.Ptr(summary), Annotations: b},
		}
		op := fmt.Sprintf("annotating check run %q (batch %d/%d)", run.Name, i+1, len(batches)+1)
		err := c.call(ctx, op, func() (*gh.Response, error) {
			_, resp, err := c.gh.Checks.UpdateCheckRun(ctx, c.owner, c.repo, run.ID, o)
			return resp, err
		})
		if err == nil {
			continue
		}
		refused++
		if first == nil {
			first = err
		}
		if IsUnavailable(err) {
			refused += len(batches) - i - 1
			break
		}
	}
	if first == nil {
		return nil
	}
	return &AnnotationsError{Refused: refused, Batches: len(batches) + 1, Err: first}
}

// AnnotationsError says some annotation batches of a check run did not
// reach GitHub.
type AnnotationsError struct {
	Refused, Batches int
	// Err is the first refusal.
	Err error
}

func (e *AnnotationsError) Error() string {
	return fmt.Sprintf("%d of %d annotation batches not sent: %v", e.Refused, e.Batches, e.Err)
}

func (e *AnnotationsError) Unwrap() error { return e.Err }

func (c *Client) complete(ctx context.Context, run *CheckRun, conclusion Conclusion, out *gh.CheckRunOutput, opFormat string) error {
	o := gh.UpdateCheckRunOptions{
		Name:        run.Name,
		Status:      gh.Ptr("completed"),
		Conclusion:  gh.Ptr(string(conclusion)),
		CompletedAt: &gh.Timestamp{Time: time.Now()},
		Output:      out,
	}
	return c.call(ctx, fmt.Sprintf(opFormat, run.Name), func() (*gh.Response, error) {
		_, resp, err := c.gh.Checks.UpdateCheckRun(ctx, c.owner, c.repo, run.ID, o)
		return resp, err
	})
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
