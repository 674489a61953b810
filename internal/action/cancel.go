package action

import (
	"context"
	"time"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
)

// cancelGrace bounds the reporting of a cancelled run. The runner follows
// its cancelling signal with a kill a few seconds later; completing the
// open check runs (one short request each) must fit before it.
const cancelGrace = 5 * time.Second

// reportingContext returns the context of the final reports: not
// cancelled with ctx, so the check runs of a cancelled run can still be
// completed, but cancelled grace after ctx is (at once if it already is
// and grace has passed), so reporting never holds a cancelled runner
// long.
func reportingContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(grace, cancel)
	})
	return rctx, func() {
		stop()
		cancel()
	}
}

// cancelled ends a run whose context was cancelled (the workflow run was
// cancelled: SIGINT or SIGTERM): every open check run is completed as
// cancelled, statuses set to error, and the summary says what was done.
// masker is nil when the build did not finish.
func (r *run) cancelled(ctx context.Context, p *plan, reports []*pathReport, masker *report.Masker) Outcome {
	r.rt.Warningf("the workflow run was cancelled: slipway stopped before finishing")
	out := github.Output{Title: "cancelled", Summary: r.shortSummary(github.ConclusionCancelled)}
	for _, pr := range reports {
		pr.conclusion = github.ConclusionCancelled
		switch {
		case pr.check != nil:
			r.complete(ctx, pr, github.ConclusionCancelled, out)
		case pr.selected:
			r.status(ctx, pr.path, github.StateError, "cancelled")
		}
	}
	p.notes = append(p.notes, "⊘ the workflow run was cancelled: slipway stopped before finishing; below is what was done.")
	var summary string
	if masker != nil {
		summary = r.summary(p, reports, masker)
	} else {
		summary = r.summary(p, nil, report.NewMasker(nil))
	}
	if err := r.rt.AppendSummary(summary); err != nil {
		r.rt.Warningf("job summary: %v", err)
	}
	changed := false
	for _, pr := range reports {
		changed = changed || changedAny(pr.deploy)
	}
	r.setOutputs(github.ConclusionCancelled, changed, nil, "", "")
	return Outcome{Result: github.ConclusionCancelled, ExitCode: 1}
}
