package helmrelease

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
)

// Labels slipway puts on Helm's release Secrets. helm-controller keeps the
// equivalent in the HelmRelease status (history snapshots with a config
// digest); slipway has no status object, and Helm stores custom release
// labels on its storage Secret, next to the release itself.
const (
	// LabelOwnerName and LabelOwnerNamespace name the HelmRelease that
	// manages the release.
	LabelOwnerName      = "helmrelease.slipway.dev/name"
	LabelOwnerNamespace = "helmrelease.slipway.dev/namespace"
	// LabelConfigDigest is a digest of chart name, version, content and
	// values: equal digests mean nothing the HelmRelease controls changed.
	LabelConfigDigest = "helmrelease.slipway.dev/config-digest"
	// The HelmRelease's uninstall options as of the last release, so that
	// Uninstall honours them after the HelmRelease left the repository (as
	// helm-controller uses the deleted object's last spec).
	LabelUninstallKeepHistory  = "helmrelease.slipway.dev/uninstall-keep-history"
	LabelUninstallDisableHooks = "helmrelease.slipway.dev/uninstall-disable-hooks"
	LabelUninstallPropagation  = "helmrelease.slipway.dev/uninstall-propagation"

	// digestLen keeps the digest within a label value's 63 characters.
	digestLen = 40
)

// configDigest identifies what a release is made of, without keeping any
// value: chart identity and content, and the composed values.
func configDigest(rb *result.ReleaseBuild) (string, error) {
	h := sha256.New()
	write := func(s string) {
		_, _ = io.WriteString(h, strconv.Itoa(len(s)))
		_, _ = io.WriteString(h, ":")
		_, _ = io.WriteString(h, s)
	}
	write(rb.Chart.Name)
	write(rb.Chart.Version)
	chartDigest := rb.Chart.Digest
	if chartDigest == "" && rb.ChartArchive != "" {
		d, err := helm.FileDigest(rb.ChartArchive)
		if err != nil {
			return "", err
		}
		// Bare hex, as release labels written before this recorded it.
		chartDigest = strings.TrimPrefix(d, "sha256:")
	}
	write(chartDigest)
	valuesDigest := rb.ValuesDigest
	if valuesDigest == "" {
		// encoding/json sorts map keys, so equal values give equal bytes.
		b, err := json.Marshal(rb.Values)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(b)
		valuesDigest = hex.EncodeToString(sum[:])
	}
	write(valuesDigest)
	return hex.EncodeToString(h.Sum(nil))[:digestLen], nil
}

// releaseLabels are the labels a release of rb carries.
func releaseLabels(rb *result.ReleaseBuild, hr *helmv2.HelmRelease, digest string) map[string]string {
	u := hr.GetUninstall()
	return map[string]string{
		LabelOwnerName:             rb.Ref.Name,
		LabelOwnerNamespace:        rb.Ref.Namespace,
		LabelConfigDigest:          digest,
		LabelUninstallKeepHistory:  strconv.FormatBool(u.KeepHistory),
		LabelUninstallDisableHooks: strconv.FormatBool(u.DisableHooks),
		LabelUninstallPropagation:  u.GetDeletionPropagation(),
	}
}

// uninstallFromLabels recovers the uninstall options recorded on a release.
func uninstallFromLabels(labels map[string]string) helmv2.Uninstall {
	var u helmv2.Uninstall
	u.KeepHistory = labels[LabelUninstallKeepHistory] == "true"
	u.DisableHooks = labels[LabelUninstallDisableHooks] == "true"
	if p := labels[LabelUninstallPropagation]; p != "" {
		u.DeletionPropagation = &p
	}
	return u
}

// labelsDiffer reports whether any of want is missing or different in have.
func labelsDiffer(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return true
		}
	}
	return false
}
