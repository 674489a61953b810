package action

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/reconcile"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/validate"
)

// pathReport is everything known about one cluster path in this run.
type pathReport struct {
	path string
	// selected paths get a check run, a diff, a comment and a deploy;
	// the others are validated only.
	selected bool
	// build is what is reported: the cluster path's build restricted to
	// the kustomization and helmrelease inputs; full is the whole build,
	// what a live diff dry-runs (see selectBuilds).
	build  *result.ClusterBuild
	full   *result.ClusterBuild
	deploy *result.ClusterDeploy
	// dryRun marks deploy as a live diff; wholePath says it covers the
	// whole cluster path though a selection narrows the rest.
	dryRun, wholePath bool
	diff              *DiffResult
	// notDeployed says why a path planned for deploy was not deployed.
	notDeployed string
	// drift are the objects that differed from their manifests before a
	// reconcile or drift check (by inventory key), with which fields.
	drift map[string]*deploy.ObjectDrift
	// revision says which commit a reconcile or rollback deployed, when
	// not the checkout.
	revision   string
	check      *github.CheckRun
	conclusion github.Conclusion
	// annotationsInLog: no check run carries the annotations, so they
	// went to the log.
	annotationsInLog bool
}

// whole is the cluster path's whole build, whatever the selection.
func (p *pathReport) whole() *result.ClusterBuild {
	if p.full != nil {
		return p.full
	}
	return p.build
}

func (p *pathReport) failed() bool {
	return (p.build != nil && p.build.HasErrors()) || (p.deploy != nil && p.deploy.Failed()) || p.notDeployed != ""
}

// workspace is the checked-out repository.
func (r *run) workspace() string {
	if ws := r.rt.Getenv("GITHUB_WORKSPACE"); ws != "" {
		return ws
	}
	return "."
}

// execute runs a plan in stages: find the cluster paths, learn the
// cluster, build and validate, diff, deploy, then conclude and report.
func (r *run) execute(ctx context.Context, p *plan) Outcome {
	repoDir := r.workspace()
	repo, selected, reports, err := r.openPaths(repoDir)
	if err != nil {
		return r.fatal(err)
	}
	ext, err := r.loadExternal(repoDir)
	if err != nil {
		return r.fatal(err)
	}
	if p.deploy || p.liveDiff {
		r.connectCluster(ctx)
	}
	r.learnCluster()
	r.defaultDiffer(ext)
	// A reconcile or a rollback deploys other commits than the checkout:
	// known before the checks start, since checks go on those commits.
	targets := r.resolveTargets(ctx, p, repo, reports)
	defer targets.Close()
	r.connectGitHub()
	r.startChecks(ctx, reports)
	// Reporting outlives a cancellation, briefly: check runs left in
	// progress would block merging.
	rctx, stopReporting := reportingContext(ctx, cancelGrace)
	defer stopReporting()

	builds, masker, err := r.buildAll(ctx, repo, fromCheckout(reports, r.targets), ext, targets)
	if err != nil {
		if ctx.Err() != nil {
			return r.cancelled(rctx, p, reports, nil)
		}
		r.abort(rctx, reports, err)
		return r.fatal(err)
	}
	attachBuilds(reports, builds)
	if err := r.selectBuilds(p, reports, builds); err != nil {
		r.abort(rctx, reports, err)
		return r.fatal(err)
	}
	builds = r.in.Select.Apply(builds)
	r.logFindings(builds, masker)

	matrix := r.planMatrix(ctx, p, repoDir, selected, &p.notes)
	if p.diff && ctx.Err() == nil {
		if err := r.diffAll(ctx, p, repoDir, reports, masker); err != nil {
			r.abort(rctx, reports, err)
			return r.fatal(err)
		}
	}
	if (p.deploy || p.liveDiff) && ctx.Err() == nil {
		r.deployAll(ctx, p, reports, masker)
	}
	if ctx.Err() != nil {
		return r.cancelled(rctx, p, reports, masker)
	}
	res, changed := conclude(reports)
	changed = changed || r.reportsPlan(p, matrix)
	r.publish(rctx, p, reports, masker, res, changed, matrix)
	r.writeHTMLReport(builds, reports, masker)
	out := Outcome{Result: res}
	if res == github.ConclusionFailure {
		out.ExitCode = 1
	}
	return out
}

// openPaths opens the checkout and lists the cluster paths: the selected
// ones, and every other one too, since validation covers every cluster
// path so that a push that breaks another cluster is not green.
func (r *run) openPaths(repoDir string) (*source.Repository, []string, []*pathReport, error) {
	repo, err := source.OpenWorktree(repoDir)
	if err != nil {
		return nil, nil, nil, err
	}
	selected, err := repo.ClusterPaths(r.in.Paths)
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := repo.ClusterPaths(nil)
	if err != nil {
		all = nil
	}
	return repo, selected, newReports(all, selected), nil
}

// newReports has one report per cluster path: those under clusters/ and
// those given explicitly outside it, in that order.
func newReports(all, selected []string) []*pathReport {
	for _, s := range selected {
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	reports := make([]*pathReport, 0, len(all))
	for _, path := range all {
		reports = append(reports, &pathReport{path: path, selected: slices.Contains(selected, path)})
	}
	return reports
}

// loadExternal reads the external-objects input (paths relative to the
// workspace, as every path a workflow gives) and masks what it holds.
func (r *run) loadExternal(repoDir string) (*build.External, error) {
	var extFiles []string
	for _, f := range r.in.ExternalObjects {
		if !filepath.IsAbs(f) {
			f = filepath.Join(repoDir, f)
		}
		extFiles = append(extFiles, f)
	}
	ext, err := build.LoadExternal(extFiles, r.decryptor())
	if err != nil {
		return nil, &InputError{Name: "external-objects", Reason: err.Error()}
	}
	r.rt.Mask(ext.Sensitive...)
	return ext, nil
}

// learnCluster sets the Kubernetes version and API versions charts render
// for: the inputs', then what the connected cluster says.
func (r *run) learnCluster() {
	r.kubeVersion = r.in.KubernetesVersion
	if r.kubeVersion == "" && r.cluster != nil {
		if v, err := r.cluster.ServerVersion(); err == nil {
			r.kubeVersion = v
		}
	}
	r.apiVersions = r.in.APIVersions
	if r.cluster != nil {
		if vs, err := r.cluster.APIVersions(); err == nil {
			r.apiVersions = append(r.apiVersions, vs...)
		} else {
			r.warnf("charts see only the api-versions input and Helm's defaults: %v", err)
		}
	}
}

// defaultDiffer is the offline differ unless the options gave one (tests).
func (r *run) defaultDiffer(ext *build.External) {
	if r.opts.Differ != nil {
		return
	}
	r.opts.Differ = NewDiffer(DifferOptions{
		Git:      r.gitFetcher(),
		OCI:      r.ociFetcher(),
		Bucket:   r.bucketFetcher(),
		Helm:     r.helmOptions(),
		External: ext.Lookup(),
		// The CLI's diff cache: a pull request restored from its base
		// branch's cache rebuilds only what the change reaches.
		CacheDir: r.cacheSubdir("builds"), CacheVersion: build.BinaryIdentity(r.opts.Version),
		RootSource: r.in.RootSource,
		Compare:    r.in.DiffCompare,
		Select:     r.in.Select,
	})
}

// fromCheckout are the cluster paths built from the checkout: not those
// deploying another commit (targets), nor those already refused.
func fromCheckout(reports []*pathReport, targets map[string]string) []string {
	var paths []string
	for _, pr := range reports {
		if targets[pr.path] == "" && pr.notDeployed == "" {
			paths = append(paths, pr.path)
		}
	}
	return paths
}

// attachBuilds gives each report its cluster path's build.
func attachBuilds(reports []*pathReport, builds []*result.ClusterBuild) {
	byPath := map[string]*pathReport{}
	for _, pr := range reports {
		byPath[pr.path] = pr
	}
	for _, cb := range builds {
		if pr := byPath[cb.Path]; pr != nil {
			pr.build, pr.full = cb, cb
		}
	}
}

// logFindings prints validation's findings in a log group, masked and
// with workflow commands stopped (they quote the repository).
func (r *run) logFindings(builds []*result.ClusterBuild, masker *report.Masker) {
	r.rt.Group("Validate")
	var text strings.Builder
	_ = report.FindingsText(&text, builds)
	r.rt.Untrusted(masker.Mask(text.String()))
	r.rt.EndGroup()
}

// conclude is the run's conclusion (failure when any cluster path failed)
// and whether anything changed, deployed or diffed.
func conclude(reports []*pathReport) (github.Conclusion, bool) {
	changed := false
	res := github.ConclusionSuccess
	for _, pr := range reports {
		if pr.failed() {
			res = github.ConclusionFailure
		}
		if changedAny(pr.deploy) || (pr.diff != nil && pr.diff.Changed) {
			changed = true
		}
	}
	return res, changed
}

// reportsPlan says whether the changed output reports the plan: a run
// that only validates reports it (the changed paths of a push, the
// selected paths of a manual run) when it has any path.
func (r *run) reportsPlan(p *plan, matrix []string) bool {
	return len(matrix) > 0 && !p.deploy && (p.matrix || (r.event.Dispatch != nil && !p.liveDiff))
}

// publish reports the run everywhere it is read: check runs, drift
// issues, the pull request comment, the job summary, files and outputs.
func (r *run) publish(ctx context.Context, p *plan, reports []*pathReport, masker *report.Masker, res github.Conclusion, changed bool, matrix []string) {
	r.reportChecks(ctx, reports, masker)
	r.syncDriftIssues(ctx, p, reports, masker)
	if p.pr != 0 {
		r.comment(ctx, p, reports, masker)
	}
	summary := r.summary(p, reports, masker)
	summaryFile := r.writeWorkspaceFile("summary.md", summary)
	diffFile := ""
	if d := diffDocument(reports); d != "" {
		diffFile = r.writeWorkspaceFile("diff.md", masker.Mask(d))
	}
	if err := r.rt.AppendSummary(summary); err != nil {
		r.rt.Warningf("job summary: %v", err)
	}
	r.setOutputs(res, changed, matrix, summaryFile, diffFile)
	r.setImageChanges(reports)
}

// buildAll builds and validates every path, and returns a masker for every
// secret value known to the run: values from Secrets, the token, the age
// key and kubeconfig credentials. The runner masks the log, not the bodies
// sent to the API, so everything sent goes through this masker too.
func (r *run) buildAll(ctx context.Context, repo *source.Repository, paths []string, ext *build.External, targets *reconcile.Targets) ([]*result.ClusterBuild, *report.Masker, error) {
	checks, err := r.checks()
	if err != nil {
		return nil, nil, err
	}
	dec, err := build.NewSOPSDecryptor(r.in.sopsKeys())
	if err != nil {
		// The decryptor's errors never hold the key; say which inputs.
		return nil, nil, fmt.Errorf("inputs sops-*: %w", err)
	}
	opts := build.DefaultOptions(repo)
	opts.Decryptor = dec
	opts.Git = r.gitFetcher()
	opts.OCI = r.ociFetcher()
	opts.Bucket = r.bucketFetcher()
	opts.Helm = r.helmOptions()
	// What HelmReleases refer to and the repository lacks: the files of
	// the external-objects input, then the cluster when connected.
	var fromCluster helm.Lookup
	if r.cluster != nil {
		fromCluster = r.cluster.ObjectLookup(ctx)
	}
	opts.External = build.ChainLookups(ext.Lookup(), fromCluster)
	// Connected, a Secret a controller makes (an ExternalSecret's target)
	// is read from the cluster, and missing there fails as in Flux.
	opts.ExternalIsCluster = r.cluster != nil
	opts.RootSource = r.in.RootSource
	r.rt.Group("Build")
	start := time.Now()
	// The CLI's build, build cache included: restore cache-dir with
	// actions/cache and unchanged Kustomizations are not rebuilt.
	runOpts := build.RunOptions{Options: opts, CacheDir: r.cacheSubdir("builds"), Identity: build.BinaryIdentity(r.opts.Version)}
	builds, err := build.BuildPaths(ctx, paths, runOpts)
	if err == nil {
		var more []*result.ClusterBuild
		more, err = targets.Build(ctx, runOpts)
		builds = append(builds, more...)
	}
	r.rt.Logf("built %d cluster path(s) in %s", len(builds), time.Since(start).Round(time.Millisecond))
	r.rt.EndGroup()
	if err != nil {
		return nil, nil, err
	}
	var secrets []string
	for _, cb := range builds {
		validate.Run(cb, checks)
		secrets = append(secrets, cb.Sensitive...)
	}
	// Register before anything built is printed.
	r.rt.Mask(secrets...)
	secrets = append(secrets, r.in.Token, r.in.AgeKey, string(r.in.SOPS.PGP), r.in.SOPS.VaultToken)
	secrets = append(secrets, kubeconfigSecrets(r.in.Kubeconfig)...)
	return builds, report.NewMasker(secrets), nil
}

// checks are validate's checks for the kubernetes-version input, else the
// connected cluster's version (as the CLI validates an apply), else the
// newest slipway knows. A cluster newer than slipway's schemas is
// validated with the newest, and the run says so.
func (r *run) checks() ([]validate.Check, error) {
	checks, err := validate.DefaultChecks(validate.Options{KubernetesVersion: r.kubeVersion})
	switch {
	case err == nil:
		return checks, nil
	case r.in.KubernetesVersion != "":
		return nil, &InputError{Name: "kubernetes-version", Value: r.in.KubernetesVersion, Reason: err.Error()}
	}
	r.warnf("validating with the newest Kubernetes schemas slipway has, not the cluster's %s: %v", r.kubeVersion, err)
	return validate.DefaultChecks(validate.Options{})
}

func (r *run) gitCacheDir() string { return r.cacheSubdir("git") }

// gitFetcher fetches other Git repositories: the token goes to the run's
// GitHub host only (GITHUB_SERVER_URL), see source.RunCredentials.
func (r *run) gitFetcher() *source.GitFetcher {
	return &source.GitFetcher{CacheDir: r.gitCacheDir(), Credentials: source.RunCredentials(r.rt.Getenv, r.in.Token), Network: r.network()}
}

// ociFetcher pulls OCIRepository sources of Kustomizations into the cache.
// bucketFetcher fetches Bucket sources into the cache, guarded as the
// other fetches are; credentials come from each Bucket's secretRef.
func (r *run) bucketFetcher() *source.BucketFetcher {
	return &source.BucketFetcher{CacheDir: r.cacheSubdir("bucket"), Network: r.network()}
}

func (r *run) ociFetcher() *source.OCIFetcher {
	return &source.OCIFetcher{CacheDir: r.cacheSubdir("oci"), Network: r.network()}
}

func (r *run) cacheSubdir(name string) string {
	if d := r.in.CacheDir; d != "" {
		// Relative to the workspace, as every path a workflow gives: the
		// folder actions/cache restores on the runner is the one the
		// container sees there.
		if !filepath.IsAbs(d) {
			d = filepath.Join(r.workspace(), d)
		}
		return filepath.Join(d, name)
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "slipway", name)
	}
	return filepath.Join(os.TempDir(), "slipway-cache", name)
}

// helmOptions: charts cached next to the Git sources (one actions/cache
// step restores both), rendered for the kubernetes-version input or, when
// deploying, the cluster's version.
func (r *run) helmOptions() helm.Options {
	return helm.Options{CacheDir: r.cacheSubdir("charts"), KubeVersion: r.kubeVersion, APIVersions: r.apiVersions, Network: r.network()}
}

// network guards what sources may reach unless allow-local-sources.
func (r *run) network() source.NetworkOptions {
	return source.RunNetwork(r.rt.Getenv, r.in.AllowLocalSources)
}

// decryptor is the age key input's; a bad key is reported by buildAll.
func (r *run) decryptor() *build.Decryptor {
	dec, err := build.NewSOPSDecryptor(r.in.sopsKeys())
	if err != nil {
		return nil
	}
	return dec
}

// connectCluster connects to the cluster the inputs name (kubeconfig, or
// auth github-oidc); a failure is kept for deployAll to report per
// cluster path.
func (r *run) connectCluster(ctx context.Context) {
	cfg, err := auth.RESTConfig(ctx, r.in.authOptions(r.rt))
	if err == nil {
		r.cluster, err = cluster.Connect(cfg)
	}
	r.clusterErr = err
}

// planMatrix returns the cluster paths a push changed, for fan-out jobs.
func (r *run) planMatrix(ctx context.Context, p *plan, repoDir string, selected []string, notes *[]string) []string {
	if !p.matrix {
		return selected
	}
	switch {
	case p.allPaths != "":
		*notes = append(*notes, p.allPaths+".")
		return selected
	case r.opts.Differ == nil:
		*notes = append(*notes, "the plan lists every cluster path: "+errNoDiffer.Error()+".")
		return selected
	}
	changed, err := r.opts.Differ.ChangedPaths(ctx, PlanRequest{RepoDir: repoDir, Base: p.base, Head: p.head, Paths: selected, AgeKey: r.in.AgeKey, SOPS: r.in.SOPS})
	if err != nil {
		r.warnf("planning between %s and %s: %s; the plan lists every cluster path", short(p.base), short(p.head), oneLine(err.Error()))
		return selected
	}
	if changed == nil {
		changed = []string{}
	}
	return changed
}

// diffAll runs the offline diff of the selected paths. Its only error is
// a selected Kustomization or HelmRelease neither revision has (a usage
// error, which stops the run); other failures are warnings.
func (r *run) diffAll(ctx context.Context, p *plan, repoDir string, reports []*pathReport, masker *report.Masker) error {
	if !r.offlineDiff(p) {
		if r.opts.Differ == nil {
			p.notes = append(p.notes, errNoDiffer.Error()+".")
		} else {
			p.notes = append(p.notes, "no base revision in the event: no offline diff.")
		}
		return nil
	}
	r.rt.Group("Diff")
	defer r.rt.EndGroup()
	var paths []string
	byPath := map[string]*pathReport{}
	for _, pr := range reports {
		if pr.selected {
			paths = append(paths, pr.path)
			byPath[pr.path] = pr
		}
	}
	results, err := r.opts.Differ.Diff(ctx, DiffRequest{RepoDir: repoDir, Base: p.base, Head: p.head, Paths: paths, AgeKey: r.in.AgeKey, SOPS: r.in.SOPS, MaxBytes: diffBudget})
	if err != nil {
		if unknown := unknownSelection(err); unknown != nil {
			return unknown
		}
		r.warnf("diff between %s and %s: %s", short(p.base), short(p.head), oneLine(masker.Mask(err.Error())))
		return nil
	}
	for _, d := range results {
		pr := byPath[d.Path]
		if pr == nil {
			continue
		}
		d.Markdown = masker.Mask(d.Markdown)
		pr.diff = d
		if d.Changed {
			r.rt.Logf("%s: changes", pr.path)
		} else {
			r.rt.Logf("%s: no changes", pr.path)
		}
	}
	return nil
}

// diffBudget leaves room in a comment for the header and the marker.
const diffBudget = github.MaxCommentBody - 4096

// deployAll deploys (or, for a live diff, dry-runs) each selected cluster
// path that built, one after the other.
func (r *run) deployAll(ctx context.Context, p *plan, reports []*pathReport, masker *report.Masker) {
	if r.cluster == nil && r.clusterErr == nil {
		r.connectCluster(ctx)
	}
	if r.clusterErr != nil {
		r.refuseAll(reports, "connecting to the cluster: "+oneLine(masker.Mask(r.clusterErr.Error())))
		return
	}
	opts := r.deployOptions(p, masker)
	for _, pr := range reports {
		if !pr.selected || pr.whole() == nil {
			continue // not built: notDeployed says why
		}
		if ctx.Err() != nil {
			// Cancelled: start no other deploy.
			pr.notDeployed = "not deployed: the workflow run was cancelled"
			continue
		}
		if !gatePath(pr, p.deploy, masker) {
			continue
		}
		r.deployPath(ctx, p, pr, opts, masker)
	}
}

// gatePath reports whether a built path may be deployed. As the CLI: an
// invalid Kustomization is not deployed, nor what depends on it; the others
// are. Errors outside any Kustomization stop the whole cluster path: a
// deploy then records the CLI's result (validate.NotDeployed), and the
// summary says why in its "not deployed" row rather than as a deploy that
// ran.
func gatePath(pr *pathReport, deploying bool, masker *report.Masker) bool {
	unowned := validate.Gate(pr.whole())
	if len(unowned) == 0 {
		return true
	}
	if deploying {
		pr.deploy = validate.NotDeployed(pr.path, unowned)
		pr.notDeployed = masker.Mask(pr.deploy.Error)
	}
	return false
}

// refuseAll marks every selected path not deployed, for a reason that
// holds for all (no cluster), and says so once.
func (r *run) refuseAll(reports []*pathReport, msg string) {
	for _, pr := range reports {
		if pr.selected {
			pr.notDeployed = msg
		}
	}
	r.rt.Annotate(github.Annotation{Level: github.LevelFailure, Title: "slipway", Message: msg})
}

// deployOptions are the inputs' deploy options; DryRun for a live diff.
func (r *run) deployOptions(p *plan, masker *report.Masker) deploy.Options {
	opts := deploy.DefaultOptions()
	opts.Prune, opts.Wait, opts.Timeout, opts.AllowEmpty = r.in.Prune, r.in.Wait, r.in.Timeout, r.in.AllowEmpty
	opts.DryRun = !p.deploy
	opts.Tooling = "slipway/" + r.opts.Version
	opts.Version = r.opts.Version
	// An explicit revision is a rollback asked for by a person: it may be
	// older than what runs. A reconcile redeploys the recorded commit,
	// which the order check always lets through.
	opts.Revision = deploy.Revision{Ancestry: source.NewAncestry(r.workspace()), Rollback: r.in.AllowRollback || p.revision != ""}
	if h := r.lockHolder(); h != "" {
		opts.Holder = h
	}
	clean := func(msg string) string { return oneLine(masker.Mask(msg)) }
	opts.Observer = deploy.ProgressLog(clean, func(line string) { r.rt.Logf("%s", line) })
	return opts
}

// deployPath deploys one cluster path in its own log group, between the
// GitHub deployment's start and finish.
func (r *run) deployPath(ctx context.Context, p *plan, pr *pathReport, opts deploy.Options, masker *report.Masker) {
	verb := "Deploy"
	if opts.DryRun {
		verb = "Live diff (server-side dry-run)"
	}
	if p.reconcile {
		// The reconcile engine's options: the target commit, and the
		// fields that drifted read before they are reverted.
		opts = reconcile.DeployOptions(opts, nil, r.commitOf(pr.path), opts.DryRun)
	} else {
		opts.Revision.Commit = r.commitOf(pr.path)
	}
	dep := r.startDeployment(ctx, p, pr)
	r.rt.Group(verb + " " + pr.path)
	// Progress names objects from the repository.
	resume := r.rt.StopCommands()
	d := deploy.New(r.cluster, opts)
	// The whole cluster path, whatever the selection: its inventory is
	// the whole path's, so a partial build would prune the rest.
	pr.deploy = d.Deploy(ctx, pr.whole())
	pr.drift = d.Drifted(pr.path)
	pr.dryRun = opts.DryRun
	pr.wholePath = opts.DryRun && !r.in.Select.Empty()
	var out strings.Builder
	_ = report.DeployText(&out, []*result.ClusterDeploy{pr.deploy}, masker)
	r.rt.Logf("%s", strings.TrimRight(out.String(), "\n"))
	resume()
	r.rt.EndGroup()
	r.finishDeployment(ctx, dep, pr)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// setImageChanges writes the image-changes output: every image change of
// the offline diff as a JSON list, for `matrix: {include: ${{
// fromJSON(...) }}}` (a pre-pull job per new image); [] without a diff.
func (r *run) setImageChanges(reports []*pathReport) {
	all := []diff.ImageChange{}
	for _, pr := range reports {
		if pr.diff != nil {
			all = append(all, pr.diff.ImageChanges...)
		}
	}
	data, err := json.Marshal(all)
	if err == nil {
		err = r.rt.SetOutput("image-changes", string(data))
	}
	if err != nil {
		r.rt.Warningf("setting output image-changes: %v", err)
	}
}
