package action

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// Differ is what the action needs from the offline diff: which cluster
// paths change between two revisions, and a markdown rendering of each
// path's changes. It is an interface so the action does not depend on how
// the diff is computed; NewDiffer is the real one.
type Differ interface {
	// ChangedPaths returns those of req.Paths whose build differs between
	// req.Base and req.Head.
	ChangedPaths(ctx context.Context, req PlanRequest) ([]string, error)
	// Diff renders each of req.Paths' changes between req.Base and
	// req.Head as markdown of at most req.MaxBytes bytes, Secret values
	// never shown; one result per path.
	Diff(ctx context.Context, req DiffRequest) ([]*DiffResult, error)
}

// PlanRequest asks which cluster paths change between two revisions.
type PlanRequest struct {
	// RepoDir is the repository worktree (a Git repository).
	RepoDir string
	// Base and Head are revisions (commits, or expressions like SHA^1).
	Base, Head string
	Paths      []string
	// AgeKey decrypts SOPS Secrets, so a change to one is seen.
	AgeKey string
	// SOPS are the other SOPS keys and credentials (its Age is AgeKey).
	SOPS build.SOPSKeys
}

// DiffRequest asks for the diff of cluster paths.
type DiffRequest struct {
	RepoDir    string
	Base, Head string
	Paths      []string
	AgeKey     string
	SOPS       build.SOPSKeys
	MaxBytes   int
}

// DiffResult is one cluster path's diff.
type DiffResult struct {
	Path string
	// Changed is false when the path builds to the same objects.
	Changed bool
	// Markdown renders the changes.
	Markdown string
	// ImageChanges are the path's image changes (the image-changes
	// output).
	ImageChanges []diff.ImageChange
	// Result is the diff itself (nil when the Differ has none): what the
	// HTML report shows and the graph marks as changed.
	Result *diff.Result
}

// Options configure Run.
type Options struct {
	// Getenv reads the step's environment (inputs, GITHUB_*).
	Getenv func(string) string
	// Stdout is the step's log, where workflow commands go.
	Stdout io.Writer
	// Version is slipway's version, recorded in deploys.
	Version string
	// Differ computes offline diffs; nil means NewDiffer's.
	Differ Differ
	// HTTPClient is used for the GitHub API; nil means a default.
	HTTPClient *http.Client
	// GitHub overrides the GitHub client's retry bounds; zero means
	// github.DefaultOptions.
	GitHub github.Options
}

// Outcome is what Run decided.
type Outcome struct {
	// Result is "success", "failure", "neutral" or "cancelled" (the
	// context was cancelled: the workflow run was).
	Result github.Conclusion
	// ExitCode is non-zero when validation or a deploy failed, or the run
	// was cancelled. Reporting to GitHub never changes it.
	ExitCode int
}

// Run is `slipway action`.
func Run(ctx context.Context, o Options) Outcome {
	rt := github.NewRuntime(o.Getenv, o.Stdout)
	r := &run{opts: o, rt: rt, start: time.Now()}
	return r.run(ctx)
}

// run holds one run's state.
type run struct {
	opts  Options
	rt    *github.Runtime
	in    *Inputs
	event *github.Event
	start time.Time
	gh    *github.Client
	// sha is the commit checks and statuses go on.
	sha string
	// reporting is how results reach the commit.
	reporting reporting
	// warnings about reporting, repeated in the summary.
	warnings []string
	// githubDown is set once the GitHub client gave up on the API, which
	// is then said once, not per request.
	githubDown bool
	// cluster is the connection of a run that deploys or diffs live, made
	// before building so that HelmReleases render for the cluster's version
	// with what it holds; clusterErr says why there is none.
	cluster    *cluster.Cluster
	clusterErr error
	// kubeVersion HelmReleases render for: the kubernetes-version input,
	// else the connected cluster's, else "" (the default).
	kubeVersion string
	// apiVersions charts see in .Capabilities.APIVersions: the
	// api-versions input, plus what the cluster serves when connected.
	apiVersions []string
	// holder names this job in deploy locks; see lockHolder.
	holder string
	// targets are the commits cluster paths are deployed at when not the
	// checkout's (a reconcile of the recorded revision, a rollback);
	// checks and statuses go on them. See resolveTargets.
	targets map[string]string
	// deploymentsOff is set once GitHub refused a deployment: said once,
	// not tried again.
	deploymentsOff bool
}

// reporting is how results reach the commit.
type reporting int

const (
	reportChecks   reporting = iota // check runs
	reportStatuses                  // commit statuses + workflow annotations
	reportLog                       // workflow annotations only
)

func (r *run) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.warnings = append(r.warnings, msg)
	r.rt.Warningf("%s", msg)
}

func (r *run) run(ctx context.Context) Outcome {
	in, err := readInputs(r.rt)
	if err != nil {
		return r.fatal(err)
	}
	r.in = in
	r.event, err = github.ReadEvent(r.rt.Getenv("GITHUB_EVENT_NAME"), r.rt.Getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		return r.fatal(err)
	}
	if in.Mode == ModeBootstrap || in.Mode == ModeUninstall {
		return r.lifecycle(ctx)
	}
	p, err := r.decide()
	if err != nil {
		return r.fatal(err)
	}
	if p.neutral != "" {
		r.rt.Logf("slipway: %s", p.neutral)
		_ = r.rt.AppendSummary("## slipway\n\n" + p.neutral + "\n")
		r.setOutputs(github.ConclusionNeutral, false, nil, "", "")
		return Outcome{Result: github.ConclusionNeutral}
	}
	return r.execute(ctx, p)
}

// fatal reports an error that stops the run before anything was built:
// bad inputs or payload. The message never holds a secret value (inputs
// errors leave secret values out; the runner masks them anyway).
func (r *run) fatal(err error) Outcome {
	r.rt.Annotate(github.Annotation{Level: github.LevelFailure, Title: "slipway", Message: err.Error()})
	_ = r.rt.AppendSummary("## slipway\n\n✗ " + report.MarkdownEscape(err.Error()) + "\n")
	r.setOutputs(github.ConclusionFailure, false, nil, "", "")
	return Outcome{Result: github.ConclusionFailure, ExitCode: 1}
}

// plan is what this run does, decided from the event and the mode.
type plan struct {
	// neutral, when set, says why there is nothing to do.
	neutral string
	// deploy applies; liveDiff asks the cluster what would change.
	deploy, liveDiff bool
	// diff computes the offline diff between base and head.
	diff       bool
	base, head string
	// matrix computes the changed paths between base and head (push);
	// allPaths says the plan is every path (new branch, force push).
	matrix   bool
	allPaths string
	// pr is the pull request to comment on; 0 for none.
	pr   int
	fork bool
	// notes explain the decision in the summary.
	notes []string
	// reconcile deploys (or, live diff, compares with) the revision each
	// cluster path's deploy record names, not the checkout, unless
	// reconcile-to: head. See resolveTargets.
	reconcile bool
	// revision is the past commit a rollback deploys instead of the
	// checkout.
	revision string
}

func (r *run) decide() (*plan, error) {
	in, ev := r.in, r.event
	p := &plan{}
	hasKube := in.hasCluster()
	r.sha = r.rt.Getenv("GITHUB_SHA")
	switch ev.Name {
	case "push":
		pe := ev.Push
		if pe.Deleted {
			p.neutral = "the push deleted " + pe.Ref + ": nothing to validate or deploy."
			return p, nil
		}
		r.sha = pe.After
		p.matrix, p.base, p.head = true, pe.Before, pe.After
		defer r.reconcileOn(p, hasKube)
		switch {
		case pe.NewRef():
			p.allPaths = "the push created the " + pe.RefKind() + ": every cluster path is in the plan"
		case pe.Forced:
			p.allPaths = "a force push of the " + pe.RefKind() + ": every cluster path is in the plan"
		}
		r.modeOn(p, hasKube)
	case "pull_request":
		pr := ev.PullRequest
		r.sha = pr.HeadSHA
		p.pr, p.fork = pr.Number, pr.FromFork()
		// GITHUB_SHA is the test merge commit; its first parent is the
		// base branch as merged, so the diff is exactly what merging
		// changes (actions/checkout with fetch-depth: 2 has it).
		p.diff, p.base, p.head = true, pr.BaseSHA, r.rt.Getenv("GITHUB_SHA")
		switch {
		case p.head == "":
			p.head = pr.HeadSHA
		case p.head != pr.HeadSHA:
			p.base = p.head + "^1"
		}
		if in.Mode == ModeDeploy {
			p.notes = append(p.notes, "mode deploy on a pull request: slipway never deploys a pull request; validating and diffing instead.")
		}
		if hasKube {
			p.liveDiff = true
			p.notes = append(p.notes, "a kubeconfig was given: the live diff asks the cluster (server-side dry-run) what would change.")
		}
	case "merge_group":
		if !r.mergeGroup(p, hasKube) {
			return p, nil
		}
	case "schedule":
		// A scheduled run reconciles without a controller: with a
		// kubeconfig, mode auto redeploys the checkout (reverting drift,
		// recorded like any deploy); mode drift only reports it.
		r.modeOn(p, hasKube)
		r.reconcileOn(p, hasKube)
		p.notes = append(p.notes, "scheduled run: "+scheduleNote(r.in.Mode, in.ReconcileTo, hasKube))
	case "workflow_dispatch":
		r.modeOn(p, hasKube)
		r.reconcileOn(p, hasKube)
		if in.Revision != "" {
			p.revision = in.Revision
			p.notes = append(p.notes, "rollback: deploying revision `"+report.MarkdownEscape(in.Revision)+"` as asked, not the checkout; an explicit revision may be older than what runs.")
		}
		if in.Mode == ModeDiff && !hasKube {
			p.notes = append(p.notes, "mode diff needs a kubeconfig outside pull requests and pushes (there is no base revision to compare with): validating only.")
		}
	default:
		p.neutral = fmt.Sprintf("event %q is not one slipway acts on (push, pull_request, merge_group, workflow_dispatch, schedule): nothing done.", ev.Name)
		return p, nil
	}
	if in.Revision != "" && ev.Name != "workflow_dispatch" {
		return nil, &InputError{Name: "revision", Value: in.Revision, Reason: "a rollback is asked for by a person: use it from workflow_dispatch"}
	}
	if in.Mode == ModeReconcile && !hasKube {
		return nil, &InputError{Name: "kubeconfig", Reason: "mode reconcile redeploys what the cluster runs: it needs a kubeconfig"}
	}
	if p.deploy && !hasKube {
		return nil, &InputError{Name: "kubeconfig", Reason: "mode deploy needs a kubeconfig (kubeconfig content, e.g. from an environment secret)"}
	}
	if in.Mode == ModeDrift && !hasKube {
		return nil, &InputError{Name: "kubeconfig", Reason: "mode drift compares with the cluster: it needs a kubeconfig"}
	}
	if err := checkSelectionScope(in.Select, p); err != nil {
		return nil, err
	}
	return p, nil
}

// mergeGroup plans a merge queue's run: validate the group's head and diff
// it against the base it would merge onto, with check runs on head_sha —
// the only commit the queue reads required checks from. A merge group is
// never deployed: its branch is temporary, and the push that follows the
// merge deploys. It reports false when there is nothing to do.
func (r *run) mergeGroup(p *plan, hasKube bool) bool {
	mg := r.event.MergeGroup
	if mg.Action != "" && mg.Action != "checks_requested" {
		p.neutral = fmt.Sprintf("merge_group %s: nothing to check.", mg.Action)
		return false
	}
	r.sha = mg.HeadSHA
	p.diff, p.base, p.head = true, mg.BaseSHA, mg.HeadSHA
	p.notes = append(p.notes, fmt.Sprintf("merge queue: checking %s, which would merge onto %s.", strings.TrimPrefix(mg.HeadRef, "refs/heads/"), strings.TrimPrefix(mg.BaseRef, "refs/heads/")))
	if r.in.Mode == ModeDeploy {
		p.notes = append(p.notes, "mode deploy in a merge queue: slipway deploys the push that follows the merge, not the queue's temporary branch; validating and diffing instead.")
	}
	if hasKube {
		p.liveDiff = true
		p.notes = append(p.notes, "a kubeconfig was given: the live diff asks the cluster (server-side dry-run) what would change.")
	}
	return true
}

// modeOn applies the mode input to a push or a manual run.
func (r *run) modeOn(p *plan, hasKube bool) {
	switch r.in.Mode {
	case ModeAuto:
		if hasKube {
			p.deploy = true
		} else {
			p.notes = append(p.notes, "mode auto without a kubeconfig: validated only, nothing deployed.")
		}
	case ModeDeploy:
		p.deploy = true
	case ModeDiff:
		if hasKube {
			p.liveDiff = true
		}
		if r.event.Push != nil && p.allPaths == "" {
			p.diff = true
		}
	case ModeDrift:
		p.liveDiff = true
	case ModeReconcile:
		p.deploy = true
	}
}

// reconcileOn decides whether a push, scheduled or manual run works on the
// revision each cluster path runs rather than the checkout: mode reconcile,
// mode drift (drift is measured from what was deployed), and a scheduled
// deploy — unless reconcile-to: head.
func (r *run) reconcileOn(p *plan, hasKube bool) {
	m := r.in.Mode
	p.reconcile = hasKube && (m == ModeReconcile || m == ModeDrift || (r.event.Name == "schedule" && p.deploy))
}

// scheduleNote says what a scheduled run does with the mode given.
func scheduleNote(mode Mode, reconcileTo string, hasKube bool) string {
	what := "the revision each cluster path runs (its deploy record)"
	if reconcileTo == ReconcileHead {
		what = "the checkout (reconcile-to: head)"
	}
	switch {
	case !hasKube:
		return "no kubeconfig: validated only."
	case mode == ModeDrift:
		return "drift mode: what differs between " + what + " and the cluster is reported; nothing is changed."
	case mode == ModeAuto || mode == ModeDeploy || mode == ModeReconcile:
		return what + " is redeployed, reverting any drift."
	}
	return "mode " + string(mode) + "."
}

// setOutputs writes the step outputs. matrix lists the planned paths as
// {"path":[...]} for strategy.matrix.
func (r *run) setOutputs(res github.Conclusion, changed bool, matrix []string, summaryFile, diffFile string) {
	if matrix == nil {
		matrix = []string{}
	}
	m, _ := json.Marshal(map[string][]string{"path": matrix})
	for _, kv := range [][2]string{
		{"result", string(res)},
		{"changed", fmt.Sprint(changed)},
		{"matrix", string(m)},
		{"summary-file", summaryFile},
		{"diff-file", diffFile},
	} {
		if err := r.rt.SetOutput(kv[0], kv[1]); err != nil {
			r.rt.Warningf("setting output %s: %v", kv[0], err)
		}
	}
}

// connectGitHub makes the API client; without token or repository the run
// reports through the log only.
func (r *run) connectGitHub() {
	r.reporting = reportLog
	repo := r.rt.Getenv("GITHUB_REPOSITORY")
	if r.in.Token == "" || repo == "" || r.sha == "" {
		r.warnf("no GitHub token, repository or commit: results go to the log and the job summary only")
		return
	}
	o := r.opts.GitHub
	def := github.DefaultOptions()
	if o.MaxRetries == 0 {
		o.MaxRetries = def.MaxRetries
	}
	if o.MaxRetryWait == 0 {
		o.MaxRetryWait = def.MaxRetryWait
	}
	o.Token, o.Repository, o.APIURL, o.HTTPClient = r.in.Token, repo, r.rt.Getenv("GITHUB_API_URL"), r.opts.HTTPClient
	c, err := github.NewClient(o)
	if err != nil {
		r.warnf("GitHub API: %v", err)
		return
	}
	r.gh = c
	r.reporting = reportChecks
}

func (r *run) runURL() string {
	server, repo, id := r.rt.Getenv("GITHUB_SERVER_URL"), r.rt.Getenv("GITHUB_REPOSITORY"), r.rt.Getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", server, repo, id)
}

// lockHolder names this job in a cluster path's lock. The run URL alone is
// shared by every job and every re-run attempt of a run, and the lock
// treats its own holder as itself: two jobs deploying one path would both
// hold it. The attempt, the job and a random nonce make it this process's.
func (r *run) lockHolder() string {
	if r.holder == "" {
		r.holder = lockHolder(r.rt.Getenv, r.runURL(), newNonce())
	}
	return r.holder
}

func lockHolder(getenv func(string) string, runURL, nonce string) string {
	if runURL == "" {
		return ""
	}
	h := runURL
	if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" {
		h += "/attempts/" + a
	}
	if j := getenv("GITHUB_JOB"); j != "" {
		h += " job " + j
	}
	return h + " #" + nonce
}

// newNonce returns 12 random hex digits; crypto/rand never fails on the
// platforms Go supports (it aborts the process instead).
func newNonce() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkName names the check run and status context of a cluster path.
func checkName(path string) string { return "slipway / " + path }

// writeWorkspaceFile writes name under <workspace>/.slipway and returns the
// path relative to the workspace: inside the action's container the
// workspace is mounted at another path than in later steps, whose working
// directory it is.
func (r *run) writeWorkspaceFile(name, content string) string {
	ws := r.rt.Getenv("GITHUB_WORKSPACE")
	if ws == "" {
		return ""
	}
	dir := filepath.Join(ws, ".slipway")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.rt.Warningf("writing %s: %v", name, err)
		return ""
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		r.rt.Warningf("writing %s: %v", name, err)
		return ""
	}
	return ".slipway/" + name
}

// changedAny reports whether a deploy changed (or, dry-run, would change)
// anything.
func changedAny(cd *result.ClusterDeploy) bool { return cd.Changed() }

var errNoDiffer = errors.New("the offline diff is not available in this version of slipway")

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
