package action

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// Continuous GitOps without a controller: a scheduled run redeploys what
// each cluster path runs (its deploy record names the commit), not what the
// branch holds now, so a hand edit is reverted without also shipping
// whatever was merged since; a rollback deploys a past commit. Both build
// that commit from the checkout's Git objects (actions/checkout with
// fetch-depth: 0), never from the worktree, and a commit the checkout lacks
// is a failure, never a silent deploy of something else.

// commitOf is the commit a cluster path is deployed at, where its check run
// and statuses go.
func (r *run) commitOf(path string) string {
	if c := r.targets[path]; c != "" {
		return c
	}
	return r.sha
}

// resolveTargets decides, for a reconcile or a rollback, which commit each
// selected cluster path is deployed at, and opens those commits' trees.
// A path whose commit cannot be had is not deployed (pr.notDeployed).
// Close the returned revisions once built.
func (r *run) resolveTargets(ctx context.Context, p *plan, repo *source.Repository, reports []*pathReport) *revisions {
	revs := &revisions{byCommit: map[string]*source.Repository{}}
	if !p.reconcile && p.revision == "" {
		return revs
	}
	head, err := repo.HeadCommit()
	if err != nil || repo.GitDir == "" {
		for _, pr := range reports {
			if pr.selected {
				pr.notDeployed = "not deployed: the workspace is not a Git checkout, so no other commit than the checkout can be built"
			}
		}
		return revs
	}
	r.targets = map[string]string{}
	if p.revision != "" {
		commit, err := revs.open(repo.GitDir, p.revision)
		for _, pr := range reports {
			switch {
			case !pr.selected:
			case err != nil:
				pr.notDeployed = notLocalMessage(p.revision, err)
			case commit != head:
				r.targets[pr.path] = commit
				pr.revision = commit + " (rollback: the revision input)"
			}
		}
		return revs
	}
	if r.cluster == nil || r.in.ReconcileTo == ReconcileHead {
		return revs // no cluster: deployAll says why; head: the checkout
	}
	for _, pr := range reports {
		if !pr.selected {
			continue
		}
		rec, err := deploy.ReadRecord(ctx, r.cluster, pr.path)
		if err != nil {
			pr.notDeployed = "not deployed: " + oneLine(err.Error())
			continue
		}
		note, target, failure := reconcileTarget(pr.path, rec, head, func(c string) error {
			_, err := revs.open(repo.GitDir, c)
			return err
		})
		p.notes = append(p.notes, note)
		pr.notDeployed = failure
		if target != head && failure == "" {
			r.targets[pr.path] = target
			pr.revision = target + " (recorded on the cluster as deployed; the checkout is " + short(head) + ")"
		}
	}
	return revs
}

// reconcileTarget picks the commit a reconcile deploys for one cluster
// path from its deploy record: the recorded one, which must be in the
// local repository (open checks it); the checkout when nothing is recorded.
// note explains the choice for the summary; failure, when set, says why
// nothing is deployed.
func reconcileTarget(path string, rec deploy.Record, head string, open func(commit string) error) (note, target, failure string) {
	p := "`" + report.MarkdownEscape(path) + "`"
	switch {
	case rec.Revision == "":
		return p + ": no deploy recorded on the cluster yet: deploying the checkout " + short(head) + ".", head, ""
	case rec.Revision == head:
		return p + ": runs the checkout " + short(head) + " (recorded " + recordWhen(rec) + ").", head, ""
	}
	if err := open(rec.Revision); err != nil {
		msg := notLocalMessage(rec.Revision, err)
		return p + ": " + msg, "", msg
	}
	note = fmt.Sprintf("%s: reconciling to the recorded revision %s (deployed %s), not the checkout %s (reconcile-to: head would deploy the checkout).",
		p, short(rec.Revision), recordWhen(rec), short(head))
	return note, rec.Revision, ""
}

func recordWhen(rec deploy.Record) string {
	s := rec.At.UTC().Format(time.RFC3339)
	if rec.Outcome != "" {
		s += ", " + rec.Outcome
	}
	return s
}

// notLocalMessage says a commit to deploy is missing from the checkout and
// how to get it.
func notLocalMessage(commit string, err error) string {
	var rev *source.RevisionError
	cause := oneLine(err.Error())
	if errors.As(err, &rev) {
		cause = oneLine(rev.Err.Error())
	}
	return fmt.Sprintf("not deployed: commit %s is not in the local repository (%s); check out the full history (actions/checkout with fetch-depth: 0). Nothing else was deployed in its place.", short(commit), cause)
}

// revisions are the commits other than the checkout opened from the Git
// objects, once each.
type revisions struct {
	byCommit map[string]*source.Repository
	// byRev resolves what was asked (a ref) to its commit.
	byRev map[string]string
}

// open opens rev (a commit or ref) and returns its commit.
func (rs *revisions) open(gitDir, rev string) (string, error) {
	if c, ok := rs.byRev[rev]; ok {
		return c, nil
	}
	repo, err := source.OpenRevision(gitDir, rev)
	if err != nil {
		return "", err
	}
	if rs.byRev == nil {
		rs.byRev = map[string]string{}
	}
	rs.byRev[rev] = repo.Revision
	if old, ok := rs.byCommit[repo.Revision]; ok {
		_ = repo.Close()
		repo = old
	}
	rs.byCommit[repo.Revision] = repo
	return repo.Revision, nil
}

// Close removes the trees written.
func (rs *revisions) Close() {
	for _, repo := range rs.byCommit {
		_ = repo.Close()
	}
}

// buildTargets builds the cluster paths deployed at another commit than
// the checkout, each from its commit's tree, with opts (the checkout's
// build options, Repo replaced).
func (r *run) buildTargets(ctx context.Context, revs *revisions, opts build.RunOptions) ([]*result.ClusterBuild, error) {
	byCommit := map[string][]string{}
	var order []string
	for p, c := range r.targets {
		if len(byCommit[c]) == 0 {
			order = append(order, c)
		}
		byCommit[c] = append(byCommit[c], p)
	}
	var out []*result.ClusterBuild
	for _, c := range order {
		repo := revs.byCommit[c]
		if repo == nil {
			return out, fmt.Errorf("commit %s was not opened", short(c))
		}
		o := opts
		o.Repo = repo
		builds, err := build.BuildPaths(ctx, byCommit[c], o)
		if err != nil {
			return out, fmt.Errorf("building commit %s: %w", short(c), err)
		}
		out = append(out, builds...)
	}
	return out, nil
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
	if !driftedAny(pr.deploy) && !pr.failed() {
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
		b.WriteString(driftTable(pr))
	}
	b.WriteString("This issue is updated while it lasts and closed by the first run that finds the cluster path clean. Secret values are never shown.\n")
	t.Body = m.Mask(b.String())
	return t
}

// driftTable lists, for the objects a reconcile or drift check found
// changed in the cluster, which fields differed from Git (Secret values
// never shown). Empty when nothing drifted.
func driftTable(pr *pathReport) string {
	if pr.deploy == nil {
		return ""
	}
	var rows []string
	for _, kd := range pr.deploy.Kustomizations {
		for _, c := range kd.Changes {
			od := pr.drift[c.ID.InventoryKey()]
			if od == nil || (c.Action != result.ActionConfigured && c.Action != result.ActionCreated) {
				continue
			}
			if od.Gone {
				rows = append(rows, fmt.Sprintf("| %s | (whole object) | deleted from the cluster | |", report.MarkdownEscape(od.ID.String())))
				continue
			}
			for _, f := range od.Fields {
				live := "`" + report.MarkdownEscape(f.Live) + "`"
				switch {
				case f.Missing:
					live = "(missing)"
				case f.Live == "" && f.Want == "":
					live = "(changed; value not shown)"
				}
				want := ""
				if f.Want != "" {
					want = "`" + report.MarkdownEscape(f.Want) + "`"
				}
				rows = append(rows, fmt.Sprintf("| %s | `%s` | %s | %s |", report.MarkdownEscape(od.ID.String()), report.MarkdownEscape(f.Path), live, want))
			}
		}
	}
	rows = append(rows, releaseDriftRows(pr.deploy)...)
	if len(rows) == 0 {
		return ""
	}
	verb := "reverted"
	if pr.dryRun {
		verb = "not changed (drift mode)"
	}
	return fmt.Sprintf("**Drift** (%s):\n\n| Object | Field | In the cluster | In Git |\n|---|---|---|---|\n%s\n\n", verb, strings.Join(rows, "\n"))
}

// releaseDriftRows lists the objects of Helm releases that differed from
// their release manifest; the release's message says whether they were
// corrected (HelmRelease driftDetection.mode: enabled, as helm-controller).
func releaseDriftRows(cd *result.ClusterDeploy) []string {
	var rows []string
	for _, kd := range cd.Kustomizations {
		for _, rel := range kd.Releases {
			for _, id := range rel.Drift {
				rows = append(rows, fmt.Sprintf("| %s (HelmRelease %s) | (release object) | differs from the release manifest: %s | |",
					report.MarkdownEscape(id.String()), report.MarkdownEscape(rel.Ref.String()), report.MarkdownEscape(oneLine(rel.Message))))
			}
		}
	}
	return rows
}

// driftedAny reports whether a reconcile or drift check found anything
// that differed from Git: objects it changed (or would), or Helm release
// objects that differed from their manifest.
func driftedAny(cd *result.ClusterDeploy) bool {
	if changedAny(cd) {
		return true
	}
	return cd != nil && len(releaseDriftRows(cd)) > 0
}
