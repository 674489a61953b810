package action

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/reconcile"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// Continuous GitOps without a controller: a scheduled run redeploys what
// each cluster path runs, a rollback deploys a past commit. Which commit,
// and building it from the Git objects, is the reconcile engine's
// (internal/reconcile, also `slipway reconcile`); what is here is
// GitHub's: check runs on that commit, deployments, drift issues.

// commitOf is the commit a cluster path is deployed at, where its check run
// and statuses go.
func (r *run) commitOf(path string) string {
	if c := r.targets[path]; c != "" {
		return c
	}
	return r.sha
}

// resolveTargets decides, for a reconcile or a rollback, which commit each
// selected cluster path is deployed at (the reconcile engine's choice),
// and says so in the summary. A path whose commit cannot be had is not
// deployed (pr.notDeployed). Close the returned targets once built.
func (r *run) resolveTargets(ctx context.Context, p *plan, repo *source.Repository, reports []*pathReport) *reconcile.Targets {
	if !p.reconcile && p.revision == "" {
		return nil
	}
	if p.revision == "" && r.cluster == nil {
		return nil // no cluster: deployAll says why
	}
	var paths []string
	for _, pr := range reports {
		if pr.selected {
			paths = append(paths, pr.path)
		}
	}
	ts := reconcile.Resolve(ctx, reconcile.TargetOptions{Cluster: r.cluster, Checkout: repo, Paths: paths,
		ToHead: r.in.ReconcileTo == ReconcileHead, Revision: p.revision})
	if ts.Head != "" {
		r.targets = map[string]string{}
	}
	for _, pr := range reports {
		if !pr.selected {
			continue
		}
		t := ts.ByPath[pr.path]
		if note := report.TargetNoteMarkdown(pr.path, t, ts.Head); note != "" {
			p.notes = append(p.notes, note)
		}
		if t.Err != nil {
			pr.notDeployed = "not deployed: " + oneLine(t.Err.Error())
			continue
		}
		if c := ts.Other(pr.path); c != "" {
			r.targets[pr.path] = c
			pr.revision = c + " (recorded on the cluster as deployed; the checkout is " + short(ts.Head) + ")"
			if t.Reason == result.TargetRevision {
				pr.revision = c + " (rollback: the revision input)"
			}
		}
	}
	return ts
}

// environmentName names the GitHub environment of a cluster path from the
// environment input: empty, the cluster path itself; lines of
// "clusters/prod=production", a mapping (paths not listed keep their
// name); otherwise a template where {path} is the cluster path and {name}
// its last element ("prod-{name}").
func environmentName(spec, clusterPath string) (string, error) {
	name := clusterPath
	switch {
	case spec == "":
	case strings.Contains(spec, "="):
		for _, line := range splitList(spec) {
			from, to, ok := strings.Cut(line, "=")
			from, to = strings.TrimSpace(from), strings.TrimSpace(to)
			if !ok || from == "" || to == "" {
				return "", fmt.Errorf("line %q: want CLUSTER_PATH=ENVIRONMENT", line)
			}
			if from == clusterPath {
				name = to
			}
		}
	default:
		name = strings.NewReplacer("{path}", clusterPath, "{name}", path.Base(clusterPath)).Replace(spec)
	}
	if name == "" || len([]rune(name)) > maxEnvironmentName {
		return "", fmt.Errorf("environment name %q: want 1 to %d characters", name, maxEnvironmentName)
	}
	return name, nil
}

// maxEnvironmentName is GitHub's bound on an environment's name.
const maxEnvironmentName = 255

// driftIssueLabel finds slipway's drift issues again.
const driftIssueLabel = "slipway-drift"

// syncDriftIssues keeps one issue per selected cluster path open while a
// reconcile or drift check finds drift or fails, and closes it once a run
// finds the path clean.
func (r *run) syncDriftIssues(ctx context.Context, p *plan, reports []*pathReport, m *report.Masker) {
	if !r.in.DriftIssues || !p.reconcile || r.gh == nil {
		return
	}
	for _, pr := range reports {
		if !pr.selected {
			continue
		}
		t := driftIssue(pr, r.commitOf(pr.path), r.runURL(), m)
		action, n, err := r.gh.SyncIssue(ctx, t)
		if err != nil {
			if github.IsForbidden(err) {
				r.warnf("cannot keep drift issues (%s): grant `issues: write` to the job, or set drift-issues: false", oneLine(err.Error()))
				return
			}
			r.reportingFailed("drift issue for "+pr.path, err)
			continue
		}
		if action != github.IssueUnchanged {
			r.rt.Logf("%s: drift issue #%d %s", pr.path, n, action)
		}
	}
}

// driftIssue is the issue of one cluster path: a body while it drifted or
// failed, none (close it) when clean. Everything in it is masked.
func driftIssue(pr *pathReport, commit, runURL string, m *report.Masker) github.TrackedIssue {
	t := github.TrackedIssue{
		Label:  driftIssueLabel,
		Marker: github.CommentMarker("drift", pr.path),
		Title:  "slipway: " + pr.path + " drifted from Git",
	}
	run := "this run"
	if runURL != "" {
		run = "[run](" + runURL + ")"
	}
	if !result.Drifted(pr.deploy) && !pr.failed() {
		t.CloseComment = fmt.Sprintf("`%s` matches commit `%s` again (%s): closing.", pr.path, short(commit), run)
		return t
	}
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` does not hold what commit `%s` deploys, as of %s.\n\n", pr.path, short(commit), run)
	switch {
	case pr.failed():
		b.WriteString("The reconcile **failed**: the cluster path may still differ from Git.\n\n")
	case pr.dryRun:
		b.WriteString("Drift mode: nothing was changed. Objects that differ from Git:\n\n")
	default:
		b.WriteString("The differences were reverted by redeploying that commit; someone or something changed them in the cluster:\n\n")
	}
	if pr.notDeployed != "" {
		b.WriteString("✗ " + report.MarkdownEscape(pr.notDeployed) + "\n\n")
	}
	if pr.deploy != nil && pr.notDeployed == "" {
		b.WriteString(report.ChangeTable(pr.deploy) + "\n")
		b.WriteString(report.DriftMarkdown(pr.deploy, pr.drift, pr.dryRun))
	}
	b.WriteString("This issue is updated while it lasts and closed by the first run that finds the cluster path clean. Secret values are never shown.\n")
	t.Body = m.Mask(b.String())
	return t
}
