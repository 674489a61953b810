package helmrelease

import (
	"context"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/slipwayhq/slipway/internal/result"
)

// Uninstall removes a release whose HelmRelease left the repository. The
// HelmRelease's uninstall options (keepHistory, disableHooks,
// deletionPropagation) are those recorded on the release when it was last
// installed or upgraded, as helm-controller uninstalls with the deleted
// object's last spec. A release that does not exist is reported unchanged.
func (r *Releaser) Uninstall(ctx context.Context, ref result.KustomizationRef, releaseName, storageNamespace string) *result.ReleaseDeploy {
	start := time.Now()
	rd := &result.ReleaseDeploy{Ref: ref, ReleaseName: releaseName, Namespace: storageNamespace}
	defer func() { rd.Duration = time.Since(start) }()
	errorf := func(op string, err error) error {
		return &ReleaseError{Ref: ref, Release: releaseName, Op: op, Err: err}
	}
	// The release namespace is only known once the release is read.
	cfg := r.actionConfig(storageNamespace, storageNamespace)
	last, err := lastRelease(cfg, releaseName)
	if err != nil {
		fail(rd, errorf("reading the release history", err))
		return rd
	}
	if last == nil || last.Info.Status == rcommon.StatusUninstalled {
		rd.Action, rd.Message = result.ReleaseUnchanged, "no release to uninstall"
		return rd
	}
	if last.Chart != nil && last.Chart.Metadata != nil {
		rd.Chart = result.ChartRef{Name: last.Chart.Name(), Version: last.Chart.Metadata.Version}
	}
	// Objects without a namespace in the manifest belong to the release's
	// namespace.
	cfg = r.actionConfig(storageNamespace, last.Namespace)
	spec := uninstallFromLabels(last.Labels)
	r.opts.Log("helmrelease %s: uninstalling release %s revision %d", ref, releaseName, last.Version)
	if err := uninstall(ctx, cfg, r, releaseName, spec, r.opts.Timeout); err != nil {
		fail(rd, errorf("uninstalling", err))
		return rd
	}
	rd.Action = result.ReleaseUninstalled
	rd.Revision = last.Version
	rd.Message = fmt.Sprintf("uninstalled revision %d", last.Version)
	if spec.KeepHistory {
		rd.Message += " (history kept)"
	}
	return rd
}

func uninstall(ctx context.Context, cfg *action.Configuration, r *Releaser, name string, spec helmv2.Uninstall, timeout time.Duration) error {
	un := action.NewUninstall(cfg)
	un.KeepHistory = spec.KeepHistory
	un.DisableHooks = spec.DisableHooks
	un.DeletionPropagation = spec.GetDeletionPropagation()
	un.IgnoreNotFound = true
	un.WaitStrategy = r.waitStrategy(spec.DisableWait)
	un.WaitOptions = waitOptions(ctx)
	un.Timeout = timeout
	_, err := un.Run(name)
	return err
}
