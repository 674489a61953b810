package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// A HelmRelease whose spec.releaseName, spec.storageNamespace or
// spec.targetNamespace changed names another Helm release than the one it
// installed before. helm-controller uninstalls the previous release before
// it installs the new one ("release target changed"): installing first
// would fail whenever the chart's objects keep their names (fullnameOverride),
// as Helm refuses objects another release owns. slipway does the same,
// and records every release a HelmRelease installed in its inventory entry
// until that release is gone, so a failed or interrupted uninstall is
// retried, and `uninstall --prune` finds it.

// ReleaseAt names a Helm release: its name and storage namespace.
type ReleaseAt struct {
	Name             string
	StorageNamespace string
}

func (r ReleaseAt) String() string { return r.StorageNamespace + "/" + r.Name }

// Former returns the releases the entry's HelmRelease installed before and
// that are not uninstalled yet, oldest first.
func (e Entry) Former() []ReleaseAt {
	if e.FormerReleases == "" {
		return nil
	}
	var out []ReleaseAt
	for _, s := range strings.Split(e.FormerReleases, ",") {
		ns, name, ok := strings.Cut(s, "/")
		if ok && ns != "" && name != "" {
			out = append(out, ReleaseAt{Name: name, StorageNamespace: ns})
		}
	}
	return out
}

// withFormer returns e recording rs as its former releases. They are kept
// as one string, "ns/name,ns/name" (neither may hold '/' or ','), so that
// Entry stays comparable.
func (e Entry) withFormer(rs []ReleaseAt) Entry {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.String())
	}
	e.FormerReleases = strings.Join(parts, ",")
	return e
}

// current returns the release the entry names now.
func (e Entry) current() ReleaseAt {
	name, ns := releaseOf(e)
	return ReleaseAt{Name: name, StorageNamespace: ns}
}

// AllReleases returns every Helm release the entry's HelmRelease may have
// left in the cluster: the former ones, then the current one.
func (e Entry) AllReleases() []ReleaseAt {
	return append(e.Former(), e.current())
}

// carryFormer returns next, the entry of a HelmRelease as rendered now,
// with the releases prev (its entry in the previous inventory) recorded
// and next no longer names: prev's former releases and, when the release
// target changed, prev's current one.
func carryFormer(next, prev Entry) Entry {
	cur := next.current()
	var out []ReleaseAt
	for _, r := range prev.AllReleases() {
		if r != cur && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return next.withFormer(out)
}

// without returns rs less the releases in gone.
func without(rs, gone []ReleaseAt) []ReleaseAt {
	var out []ReleaseAt
	for _, r := range rs {
		if !slices.Contains(gone, r) {
			out = append(out, r)
		}
	}
	return out
}

// retireFormer uninstalls a HelmRelease's former releases before its
// current one is reconciled. It returns those it uninstalled (or found
// gone), and an error naming the first that could not be: the current
// release is then not reconciled, as helm-controller does not install over
// a release it could not remove.
func (d *Deployer) retireFormer(ctx context.Context, clusterPath string, rb *result.ReleaseBuild, e Entry, kd *result.KustomizationDeploy, record func(result.Change)) ([]ReleaseAt, error) {
	id := helmReleaseID(rb.Ref)
	var done []ReleaseAt
	for _, f := range e.Former() {
		if d.opts.DryRun {
			record(result.Change{ID: id, Action: result.ActionDeleted,
				Message: fmt.Sprintf("would uninstall former Helm release %s (the HelmRelease now names %s/%s)", f, rb.StorageNamespace, rb.ReleaseName)})
			continue
		}
		rel, err := d.releaser(clusterPath, d.helm.of(clusterPath))
		if err != nil {
			return done, err
		}
		d.emit(clusterPath, &kd.Ref, "HelmRelease %s: release target changed, uninstalling former release %s", rb.Ref, f)
		rd := rel.Uninstall(ctx, rb.Ref, f.Name, f.StorageNamespace)
		if rd.Action == result.ReleaseFailed {
			record(result.Change{ID: id, Action: result.ActionFailed, Message: fmt.Sprintf("uninstalling former release %s: %s", f, rd.Message)})
			return done, fmt.Errorf("former release %s could not be uninstalled: %s", f, rd.Message)
		}
		if rd.Action == result.ReleaseUninstalled {
			record(result.Change{ID: id, Action: result.ActionDeleted, Message: fmt.Sprintf("former release %s uninstalled: %s", f, rd.Message)})
		}
		done = append(done, f) // uninstalled, or never there
	}
	return done, nil
}
