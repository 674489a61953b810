package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/slipwayhq/slipway/internal/result"
)

// releaseRun is one Reconcile (or DryRun) of one HelmRelease.
type releaseRun struct {
	r      *Releaser
	ctx    context.Context
	rb     *result.ReleaseBuild
	hr     *helmv2.HelmRelease
	chart  *chart.Chart
	cfg    *action.Configuration
	t      timeouts
	digest string
	labels map[string]string
	rd     *result.ReleaseDeploy
}

// Reconcile brings the Helm release of rb to what rb says, as
// helm-controller's atomic release reconciler does within one
// reconciliation and the retries that follow it:
//
//   - no release (or an uninstalled one): install, retried per
//     install.remediation with an uninstall between attempts;
//   - a release left pending by an interrupted run: marked failed (Flux's
//     "unlock"), then handled as failed;
//   - a deployed release of the same chart, values and manifest: unchanged,
//     no new revision;
//   - otherwise: upgrade, retried per upgrade.remediation with a rollback
//     or an uninstall between attempts.
//
// The result's Action is ReleaseRolledBack when the upgrade failed and the
// release was rolled back, ReleaseFailed when the desired state was not
// reached otherwise; Message says why.
func (r *Releaser) Reconcile(ctx context.Context, rb *result.ReleaseBuild) *result.ReleaseDeploy {
	start := time.Now()
	run, rd := r.prepare(ctx, rb)
	if run != nil {
		guard(rd, run.reconcile)
	}
	rd.Duration = time.Since(start)
	return rd
}

// guard runs f, turning a panic inside Helm or client-go into a failed
// release instead of a crashed deploy.
func guard(rd *result.ReleaseDeploy, f func()) {
	defer func() {
		if p := recover(); p != nil {
			fail(rd, &ReleaseError{Ref: rd.Ref, Release: rd.ReleaseName, Op: "running Helm", Err: fmt.Errorf("panic: %v", p)})
		}
	}()
	f()
}

// prepare returns the run for rb, or nil with a final result when there is
// nothing to run (suspended, not rendered, unreadable chart).
func (r *Releaser) prepare(ctx context.Context, rb *result.ReleaseBuild) (*releaseRun, *result.ReleaseDeploy) {
	rd := &result.ReleaseDeploy{
		Ref:         rb.Ref,
		ReleaseName: rb.ReleaseName,
		Namespace:   rb.StorageNamespace,
		Chart:       rb.Chart,
		Origin:      rb.Origin,
	}
	hr := spec(rb)
	if rb.Suspended || hr.Spec.Suspend {
		rd.Action, rd.Message = result.ReleaseSkipped, "suspended"
		return nil, rd
	}
	if rb.Err != nil {
		fail(rd, &ReleaseError{Ref: rb.Ref, Release: rb.ReleaseName, Op: "rendering", Err: fmt.Errorf("%w: %w", ErrNotRendered, rb.Err)})
		return nil, rd
	}
	if rb.ReleaseName == "" || rb.StorageNamespace == "" || rb.Namespace == "" {
		fail(rd, &ReleaseError{Ref: rb.Ref, Op: "preparing", Err: errors.New("release name, namespace or storage namespace missing")})
		return nil, rd
	}
	ch, err := loadChart(rb)
	if err != nil {
		fail(rd, err)
		return nil, rd
	}
	digest, err := configDigest(rb)
	if err != nil {
		fail(rd, &ReleaseError{Ref: rb.Ref, Release: rb.ReleaseName, Op: "computing the config digest", Err: err})
		return nil, rd
	}
	run := &releaseRun{
		r:      r,
		ctx:    ctx,
		rb:     rb,
		hr:     hr,
		chart:  ch,
		cfg:    r.actionConfig(rb.StorageNamespace, rb.Namespace),
		t:      r.timeoutsFor(hr),
		digest: digest,
		labels: releaseLabels(rb, hr, digest),
		rd:     rd,
	}
	return run, rd
}

func fail(rd *result.ReleaseDeploy, err error) {
	rd.Action = result.ReleaseFailed
	rd.Message = err.Error()
}

func (run *releaseRun) log(format string, args ...any) {
	run.r.opts.Log("helmrelease %s: "+format, append([]any{run.rb.Ref}, args...)...)
}

func (run *releaseRun) errorf(op string, err error) error {
	return &ReleaseError{Ref: run.rb.Ref, Release: run.rb.ReleaseName, Op: op, Err: err}
}

func (run *releaseRun) chartString() string {
	return run.chart.Name() + "@" + run.chart.Metadata.Version
}

func (run *releaseRun) reconcile() {
	name := run.rb.ReleaseName
	last, err := lastRelease(run.cfg, name)
	if err != nil {
		fail(run.rd, run.errorf("reading the release history", err))
		return
	}
	if last != nil && last.Info.Status.IsPending() {
		// Mirrors helm-controller's unlock: a release left pending by a run
		// that died can never finish; mark it failed so that the failed
		// release handling below recovers it.
		if err := run.unlock(last); err != nil {
			fail(run.rd, run.errorf("unlocking the pending release", err))
			return
		}
	}

	switch {
	case last == nil || last.Info.Status == rcommon.StatusUninstalled:
		run.installWithRemediation(last != nil)
	case last.Info.Status == rcommon.StatusDeployed:
		if last.Chart != nil && last.Chart.Name() != run.chart.Name() &&
			run.hr.GetUpgrade().GetChartNameChangeStrategy() == helmv2.ChartNameChangeStrategyReinstall {
			// helm-controller reinstalls a release whose chart was replaced
			// by another chart rather than upgrading one into the other.
			run.log("chart changed from %s to %s: reinstalling", last.Chart.Name(), run.chart.Name())
			if err := run.uninstall(run.hr.GetUninstall()); err != nil {
				fail(run.rd, run.errorf("uninstalling before reinstalling with another chart", err))
				return
			}
			run.installWithRemediation(run.hr.GetUninstall().KeepHistory)
			return
		}
		reason, err := run.outOfSync(last)
		if err != nil {
			fail(run.rd, run.errorf("comparing with the deployed release", err))
			return
		}
		if reason == "" {
			run.unchanged(last)
			return
		}
		run.log("release %s revision %d out of sync (%s): upgrading", name, last.Version, reason)
		run.upgradeWithRemediation()
	default:
		// A failed (or otherwise unexpected) release from an earlier run.
		// helm-controller upgrades a failed release once the conditions of
		// the failure changed; a new CI run is such a change.
		run.log("release %s revision %d is %s: upgrading", name, last.Version, last.Info.Status)
		run.upgradeWithRemediation()
	}
}

// unchanged records a release that needs no action, refreshing the labels
// that do not warrant a new revision, and checks it for drift.
func (run *releaseRun) unchanged(last *release.Release) {
	run.rd.Action = result.ReleaseUnchanged
	run.rd.Revision = last.Version
	run.rd.Message = fmt.Sprintf("revision %d of %s is up to date", last.Version, run.chartString())
	if labelsDiffer(last.Labels, run.labels) {
		merged := make(map[string]string, len(last.Labels)+len(run.labels))
		for k, v := range last.Labels {
			merged[k] = v
		}
		for k, v := range run.labels {
			merged[k] = v
		}
		last.Labels = merged
		// Update rewrites the stored revision in place: no new revision.
		if err := run.cfg.Releases.Update(last); err != nil {
			fail(run.rd, run.errorf("updating release labels", err))
			return
		}
	}
	run.checkDrift(last)
}

func (run *releaseRun) unlock(last *release.Release) error {
	prev := last.Info.Status
	last.SetStatus(rcommon.StatusFailed, fmt.Sprintf("Release unlocked from stale '%s' state", prev))
	if err := run.cfg.Releases.Update(last); err != nil {
		return err
	}
	run.log("release %s revision %d was left %s: marked failed", last.Name, last.Version, prev)
	return nil
}

// retries turns a remediation's retries into a bound for this run.
func retries(n int) int {
	if n < 0 {
		return MaxUnlimitedRetries
	}
	return n
}

// installWithRemediation installs, and on failure uninstalls and retries as
// install.remediation says (helm-controller: uninstall between attempts,
// remediateLastFailure defaults to false for installs).
func (run *releaseRun) installWithRemediation(replace bool) {
	rem := run.hr.GetInstall().GetRemediation()
	max := retries(rem.GetRetries())
	for attempt := 1; ; attempt++ {
		rel, err := run.install(replace)
		if err == nil {
			run.succeeded(result.ReleaseInstalled, rel, attempt, "installed")
			return
		}
		exhausted := attempt > max
		run.log("install of %s failed (attempt %d of %d): %v", run.chartString(), attempt, max+1, err)
		remediated := false
		if !exhausted || rem.MustRemediateLastFailure() {
			if uerr := run.uninstall(run.hr.GetUninstall()); uerr != nil {
				fail(run.rd, run.errorf("installing", fmt.Errorf("%w; uninstalling the failed release also failed: %v", err, uerr)))
				run.setRevision()
				return
			}
			remediated = true
			replace = run.hr.GetUninstall().KeepHistory
		}
		if exhausted {
			msg := fmt.Errorf("%w after %d attempt(s): %w", ErrRetriesExhausted, attempt, err)
			fail(run.rd, run.errorf("installing "+run.chartString(), msg))
			if remediated {
				run.rd.Message += "; the failed release was uninstalled"
			}
			run.setRevision()
			return
		}
	}
}

// upgradeWithRemediation upgrades, and on failure remediates and retries as
// upgrade.remediation says: roll back to the revision that was deployed
// before (default) or uninstall, then try again; remediateLastFailure
// defaults to true when retries > 0, as in helm-controller.
func (run *releaseRun) upgradeWithRemediation() {
	rem := run.hr.GetUpgrade().GetRemediation()
	max := retries(rem.GetRetries())
	target, err := deployedRevision(run.cfg, run.rb.ReleaseName)
	if err != nil {
		fail(run.rd, run.errorf("reading the release history", err))
		return
	}
	installNext, replace := false, false
	for attempt := 1; ; attempt++ {
		var rel *release.Release
		verb := "upgrade"
		if installNext {
			verb = "install"
			rel, err = run.install(replace)
		} else {
			rel, err = run.upgrade()
		}
		if err == nil {
			if installNext {
				run.succeeded(result.ReleaseInstalled, rel, attempt, "installed")
			} else {
				run.succeeded(result.ReleaseUpgraded, rel, attempt, "upgraded to")
			}
			return
		}
		exhausted := attempt > max
		run.log("%s to %s failed (attempt %d of %d): %v", verb, run.chartString(), attempt, max+1, err)
		failure := fmt.Errorf("%s of %s failed: %w", verb, run.chartString(), err)
		if exhausted {
			failure = fmt.Errorf("%w after %d attempt(s): %s of %s failed: %w", ErrRetriesExhausted, attempt, verb, run.chartString(), err)
		}
		if exhausted && !rem.MustRemediateLastFailure() {
			fail(run.rd, run.errorf("upgrading", failure))
			run.setRevision()
			return
		}
		switch rem.GetStrategy() {
		case helmv2.UninstallRemediationStrategy:
			if uerr := run.uninstall(run.hr.GetUninstall()); uerr != nil {
				fail(run.rd, run.errorf("upgrading", fmt.Errorf("%w; uninstall remediation failed: %v", failure, uerr)))
				run.setRevision()
				return
			}
			if exhausted {
				fail(run.rd, run.errorf("upgrading", failure))
				run.rd.Message += "; the release was uninstalled"
				return
			}
			installNext, replace = true, run.hr.GetUninstall().KeepHistory
		default:
			if target == 0 {
				fail(run.rd, run.errorf("upgrading", fmt.Errorf("%w; cannot roll back: %w", failure, ErrNoRollbackTarget)))
				run.setRevision()
				return
			}
			if rerr := run.rollback(target); rerr != nil {
				fail(run.rd, run.errorf("upgrading", fmt.Errorf("%w; rollback to revision %d failed: %v", failure, target, rerr)))
				run.setRevision()
				return
			}
			if exhausted {
				run.rd.Action = result.ReleaseRolledBack
				run.rd.Message = fmt.Sprintf("%v; rolled back to revision %d", run.errorf("upgrading", failure), target)
				run.setRevision()
				return
			}
		}
	}
}

// succeeded records a successful install or upgrade and checks for drift.
func (run *releaseRun) succeeded(a result.ReleaseAction, rel *release.Release, attempt int, verb string) {
	run.rd.Action = a
	run.rd.Revision = rel.Version
	run.rd.Message = fmt.Sprintf("%s %s (revision %d)", verb, run.chartString(), rel.Version)
	if attempt > 1 {
		run.rd.Message += fmt.Sprintf(" after %d attempts", attempt)
	}
	run.log("%s", run.rd.Message)
	run.checkDrift(rel)
}

// setRevision records the latest stored revision, if any, on a failure.
func (run *releaseRun) setRevision() {
	if last, err := lastRelease(run.cfg, run.rb.ReleaseName); err == nil && last != nil && last.Info.Status != rcommon.StatusUninstalled {
		run.rd.Revision = last.Version
	}
}

// lastRelease returns the newest revision of a release, nil if there is none.
func lastRelease(cfg *action.Configuration, name string) (*release.Release, error) {
	r, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toV1(r)
}

// deployedRevision is the revision a failed upgrade rolls back to: the one
// deployed now, 0 if none.
func deployedRevision(cfg *action.Configuration, name string) (int, error) {
	r, err := cfg.Releases.Deployed(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || errors.Is(err, driver.ErrNoDeployedReleases) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	rel, err := toV1(r)
	if err != nil || rel == nil {
		return 0, err
	}
	return rel.Version, nil
}

func toV1(r ri.Releaser) (*release.Release, error) {
	switch rel := r.(type) {
	case *release.Release:
		return rel, nil
	case release.Release:
		return &rel, nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("unsupported Helm release type %T", r)
	}
}
