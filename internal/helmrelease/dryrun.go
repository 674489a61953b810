package helmrelease

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/slipwayhq/slipway/internal/result"
)

// DryRun says what Reconcile would do, changing nothing: the Action it
// would take (installed, upgraded, unchanged, skipped) with Helm's
// server-side dry-run of that action, so that template, schema and
// ownership errors show up as ReleaseFailed. Remediation is not simulated.
func (r *Releaser) DryRun(ctx context.Context, rb *result.ReleaseBuild) *result.ReleaseDeploy {
	start := time.Now()
	run, rd := r.prepare(ctx, rb)
	if run != nil {
		guard(rd, run.dryRun)
	}
	rd.Duration = time.Since(start)
	return rd
}

func (run *releaseRun) dryRun() {
	last, err := lastRelease(run.cfg, run.rb.ReleaseName)
	if err != nil {
		fail(run.rd, run.errorf("reading the release history", err))
		return
	}
	if last == nil || last.Info.Status == rcommon.StatusUninstalled {
		in, err := run.newInstall(last != nil)
		if err != nil {
			fail(run.rd, run.errorf("dry-run install", err))
			return
		}
		in.DryRunStrategy = action.DryRunServer
		if _, err := in.RunWithContext(run.ctx, run.chart, copyValues(run.rb.Values)); err != nil {
			fail(run.rd, run.errorf("dry-run install of "+run.chartString(), err))
			return
		}
		run.rd.Action = result.ReleaseInstalled
		run.rd.Message = "dry run: would install " + run.chartString()
		return
	}
	run.rd.Revision = last.Version
	if last.Info.Status == rcommon.StatusDeployed {
		reason, err := run.outOfSync(last)
		if err != nil {
			fail(run.rd, run.errorf("comparing with the deployed release", err))
			return
		}
		if reason == "" {
			run.rd.Action = result.ReleaseUnchanged
			run.rd.Message = fmt.Sprintf("dry run: revision %d of %s is up to date", last.Version, run.chartString())
			drifted, _, err := detectDrift(run.cfg.KubeClient, last)
			if err != nil {
				run.rd.Message += fmt.Sprintf("; drift check failed: %v", err)
			}
			run.rd.Drift = drifted
			return
		}
		run.rd.Message = fmt.Sprintf("dry run: would upgrade revision %d (%s)", last.Version, reason)
	} else {
		run.rd.Message = fmt.Sprintf("dry run: would upgrade revision %d, which is %s", last.Version, last.Info.Status)
	}
	up := run.newUpgrade()
	up.DryRunStrategy = action.DryRunServer
	if _, err := up.RunWithContext(run.ctx, run.rb.ReleaseName, run.chart, copyValues(run.rb.Values)); err != nil && last.Info.Status == rcommon.StatusDeployed {
		// A pending or failed release makes Helm's dry-run refuse; the real
		// run recovers it first, so only a deployed release's error counts.
		fail(run.rd, run.errorf("dry-run upgrade to "+run.chartString(), err))
		return
	}
	run.rd.Action = result.ReleaseUpgraded
}
