package action

import (
	"context"
	"fmt"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
)

// startChecks creates a check run in progress per selected path. The first
// 403 switches the run to commit statuses: a read-only token (fork pull
// request) or a workflow without `checks: write`.
func (r *run) startChecks(ctx context.Context, reports []*pathReport) {
	for _, pr := range reports {
		if !pr.selected {
			continue
		}
		switch r.reporting {
		case reportChecks:
			cr, err := r.gh.CreateCheckRun(ctx, checkName(pr.path), r.commitOf(pr.path), r.runURL())
			if err == nil {
				pr.check = cr
				continue
			}
			if github.IsForbidden(err) {
				r.warnf("cannot create check runs (%s): reporting with commit statuses, annotations and the job summary instead; grant `checks: write` to get check runs", oneLine(err.Error()))
				r.reporting = reportStatuses
			} else {
				r.reportingFailed("check run for "+pr.path, err)
				continue
			}
			fallthrough
		case reportStatuses:
			r.status(ctx, pr.path, github.StatePending, "slipway is running")
		}
	}
}

// status sets a commit status; a 403 here too leaves the log and the
// summary as the only reports.
func (r *run) status(ctx context.Context, path string, state github.StatusState, desc string) {
	if r.reporting != reportStatuses {
		return
	}
	err := r.gh.CreateStatus(ctx, r.commitOf(path), checkName(path), state, desc, r.runURL())
	if err == nil {
		return
	}
	if github.IsForbidden(err) {
		r.warnf("cannot set commit statuses either (%s): results are in the annotations and the job summary; a pull request from a fork gets a read-only token", oneLine(err.Error()))
		r.reporting = reportLog
		return
	}
	r.reportingFailed("commit status for "+path, err)
}

// abort completes started checks when the run stops before a result.
func (r *run) abort(ctx context.Context, reports []*pathReport, cause error) {
	for _, pr := range reports {
		if pr.check != nil {
			out := github.Output{Title: "slipway could not run", Summary: "✗ " + report.MarkdownEscape(cause.Error())}
			r.complete(ctx, pr, github.ConclusionFailure, out)
		} else if pr.selected {
			r.status(ctx, pr.path, github.StateError, "slipway could not run")
		}
	}
}

// reportChecks completes each selected path's check run, or sets its
// status, and writes workflow annotations where no check run carries them.
func (r *run) reportChecks(ctx context.Context, reports []*pathReport, m *report.Masker) {
	logAnnotations := 0
	for _, pr := range reports {
		pr.conclusion = github.ConclusionSuccess
		switch {
		case pr.failed():
			pr.conclusion = github.ConclusionFailure
		case pr.deploy != nil && pr.deploy.OutOfOrder:
			// This commit is fine; a newer one was deployed first.
			pr.conclusion = github.ConclusionNeutral
		}
		anns := annotations(pr, m)
		if pr.check != nil {
			out := github.Output{
				Title:       checkTitle(pr),
				Summary:     pathSummary(pr, m),
				Text:        pathText(pr, m),
				Annotations: anns,
			}
			if r.complete(ctx, pr, pr.conclusion, out) == github.CompletedFull {
				continue
			}
		} else if pr.selected {
			state := github.StateSuccess
			if pr.failed() {
				state = github.StateFailure
			}
			r.status(ctx, pr.path, state, checkTitle(pr))
		}
		pr.annotationsInLog = true
		// The UI shows the first MaxUIAnnotations of each level; more
		// would only lengthen the log, and the summary lists them all.
		for _, a := range anns {
			if logAnnotations >= 5*github.MaxUIAnnotations {
				break
			}
			r.rt.Annotate(a)
			logAnnotations++
		}
	}
	if n := countAnnotations(reports, m); n > logAnnotations && logAnnotations > 0 {
		r.rt.Logf("%d more annotation(s) not written to the log: see the job summary", n-logAnnotations)
	}
}

// complete ends pr's check run, whatever GitHub refuses: the full report,
// else a short one pointing at the job summary, else a commit status of
// the same name, else a warning in the log and the job summary saying
// the check may show as in progress. A run left in progress would block
// merging when the check is required.
func (r *run) complete(ctx context.Context, pr *pathReport, conclusion github.Conclusion, out github.Output) github.Completion {
	out.ShortSummary = r.shortSummary(conclusion)
	done, err := r.gh.CompleteCheckRun(ctx, pr.check, conclusion, out)
	if err != nil {
		r.reportingFailed(fmt.Sprintf("check run for %s", pr.path), err)
	}
	switch done {
	case github.CompletedShort:
		r.warnf("GitHub refused the full report of check run %q: it has its conclusion (%s) and points at this summary", pr.check.Name, conclusion)
	case github.NotCompleted:
		r.completeWithStatus(ctx, pr, conclusion, out.Title)
	}
	return done
}

// shortSummary is the check run summary sent when GitHub refuses the full
// one.
func (r *run) shortSummary(conclusion github.Conclusion) string {
	where := "the job summary of the workflow run"
	if u := r.runURL(); u != "" {
		where = fmt.Sprintf("[the job summary of the workflow run](%s)", u)
	}
	if conclusion == github.ConclusionCancelled {
		return "The workflow run was cancelled before slipway finished. What was done is in " + where + "."
	}
	return "GitHub refused slipway's full report. It is in " + where + "."
}

// completeWithStatus is the last API resort for a check run GitHub would
// not complete: a commit status with the check's name, which a branch
// protection rule can require instead.
func (r *run) completeWithStatus(ctx context.Context, pr *pathReport, conclusion github.Conclusion, title string) {
	err := r.gh.CreateStatus(ctx, r.commitOf(pr.path), checkName(pr.path), statusState(conclusion), title, r.runURL())
	if err == nil {
		r.warnf("GitHub would not complete check run %q: its result is in the commit status of the same name; the check run may show as in progress", pr.check.Name)
		return
	}
	r.reportingFailed(fmt.Sprintf("commit status for %s", pr.path), err)
	r.warnf("GitHub would not complete check run %q nor set a commit status: the check may show as in progress; the result (%s) is in this summary and the log", pr.check.Name, conclusion)
}

// statusState maps a conclusion onto the four states of a commit status.
func statusState(c github.Conclusion) github.StatusState {
	switch c {
	case github.ConclusionFailure:
		return github.StateFailure
	case github.ConclusionCancelled:
		return github.StateError
	}
	return github.StateSuccess
}

// reportingFailed warns about a request GitHub refused. An unavailable
// API is said once: every later request fails the same way, without
// being sent.
func (r *run) reportingFailed(what string, err error) {
	if github.IsUnavailable(err) {
		if !r.githubDown {
			r.githubDown = true
			r.warnf("the GitHub API is unavailable (%s): slipway stopped reporting through it; results are in this summary, the log and the step outputs", oneLine(err.Error()))
		}
		return
	}
	r.warnf("%s: %s", what, oneLine(err.Error()))
}

func countAnnotations(reports []*pathReport, m *report.Masker) int {
	n := 0
	for _, pr := range reports {
		if pr.annotationsInLog {
			n += len(annotations(pr, m))
		}
	}
	return n
}

// comment keeps one comment per selected path on the pull request with
// its diff; a path whose diff became empty loses its comment.
func (r *run) comment(ctx context.Context, p *plan, reports []*pathReport, m *report.Masker) {
	if !r.in.Comment || r.gh == nil {
		return
	}
	if p.fork {
		p.notes = append(p.notes, "a pull request from a fork has a read-only token: the diff is in this summary, not in a comment.")
		return
	}
	for _, pr := range reports {
		if !pr.selected {
			continue
		}
		body, known := commentBody(pr, m)
		if !known {
			continue
		}
		act, err := r.gh.SyncComment(ctx, p.pr, github.CommentMarker("diff", pr.path), body)
		if err != nil {
			if github.IsForbidden(err) {
				r.warnf("cannot comment on the pull request (%s): grant `pull-requests: write`", oneLine(err.Error()))
				return
			}
			r.reportingFailed("comment for "+pr.path, err)
			continue
		}
		r.rt.Logf("pull request comment for %s: %s", pr.path, act)
	}
}

func checkTitle(pr *pathReport) string {
	c := report.Count(nil)
	if pr.build != nil {
		c = report.Count(buildsOf(pr))
	}
	switch {
	case pr.build != nil && pr.build.HasErrors():
		return fmt.Sprintf("validation failed: %d error(s)", c.Errors)
	case pr.notDeployed != "":
		return "not deployed"
	case pr.deploy != nil && pr.deploy.Failed():
		return "deploy failed"
	case pr.deploy != nil && pr.deploy.OutOfOrder:
		return "not deployed: a newer commit is deployed"
	case pr.deploy != nil && !pr.dryRun:
		return "deployed"
	case pr.diff != nil && pr.diff.Changed:
		return fmt.Sprintf("valid, with changes (%d warning(s))", c.Warnings)
	}
	return fmt.Sprintf("valid (%d warning(s))", c.Warnings)
}
