package helmrelease

import (
	"fmt"
	"time"
)

// ReleaseInfo is what Helm's storage holds of a release's newest revision.
// It leaves out the revision's description on purpose: a failed action's
// description quotes the chart's error, which may quote values from
// Secrets.
type ReleaseInfo struct {
	Revision int
	// Status is Helm's: deployed, failed, pending-upgrade, uninstalled, …
	Status string
	// Chart is name-version of the chart the revision installed.
	Chart        string
	LastDeployed time.Time
}

// Last reads the newest stored revision of a release, as `helm status`
// does, without touching the cluster otherwise; ok is false when the
// release is not stored. Reading the storage needs get and list on Secrets
// in storageNamespace: a Forbidden error is returned as it is (wrapped),
// for the caller to tell with apierrors.IsForbidden.
func (r *Releaser) Last(releaseName, storageNamespace string) (info ReleaseInfo, ok bool, err error) {
	cfg := r.actionConfig(storageNamespace, storageNamespace)
	last, err := lastRelease(cfg, releaseName)
	if err != nil {
		return ReleaseInfo{}, false, fmt.Errorf("reading release %s/%s: %w", storageNamespace, releaseName, err)
	}
	if last == nil {
		return ReleaseInfo{}, false, nil
	}
	info = ReleaseInfo{Revision: last.Version}
	if last.Info != nil {
		info.Status = string(last.Info.Status)
		info.LastDeployed = last.Info.LastDeployed
	}
	if last.Chart != nil && last.Chart.Metadata != nil {
		info.Chart = last.Chart.Metadata.Name + "-" + last.Chart.Metadata.Version
	}
	return info, true, nil
}
