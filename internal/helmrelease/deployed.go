package helmrelease

import (
	"errors"
	"fmt"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/helm"
)

// Current returns the objects of the revision of a release an upgrade
// starts from, as Helm chooses it (the last revision when deployed, else
// the deployed one, else a failed or superseded last one), read from the
// release's stored manifest (hooks are not part of it), with the namespace
// the release was installed in. An upgrade deletes those of them the new
// rendering no longer has. None when the release is not installed.
func (r *Releaser) Current(releaseName, storageNamespace string) (objs []*unstructured.Unstructured, namespace string, err error) {
	cfg := r.actionConfig(storageNamespace, storageNamespace)
	last, err := lastRelease(cfg, releaseName)
	if err != nil || last == nil || last.Info.Status == rcommon.StatusUninstalled {
		return nil, "", err
	}
	cur := last
	if last.Info.Status != rcommon.StatusDeployed {
		d, err := cfg.Releases.Deployed(releaseName)
		switch {
		case errors.Is(err, driver.ErrNoDeployedReleases) || errors.Is(err, driver.ErrReleaseNotFound):
			if last.Info.Status != rcommon.StatusFailed && last.Info.Status != rcommon.StatusSuperseded {
				return nil, "", nil
			}
		case err != nil:
			return nil, "", err
		default:
			if cur, err = toV1(d); err != nil || cur == nil {
				return nil, "", err
			}
		}
	}
	objs, err = helm.DecodeManifest(cur.Manifest)
	if err != nil {
		return nil, "", fmt.Errorf("release %s revision %d: stored manifest: %w", releaseName, cur.Version, err)
	}
	return objs, cur.Namespace, nil
}
