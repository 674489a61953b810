package result

import (
	"errors"

	"github.com/fluxcd/pkg/apis/meta"
)

// Reason classifies why a Kustomization or a cluster path did not deploy,
// why a unit of a diff failed, or why a status could not be read,
// so callers branch on a value and never on an error's text. Where Flux
// has a condition reason for the same cause, it is Flux's
// (fluxcd/pkg/apis/meta), so users and tools see the words they know.
type Reason string

// Reasons.
const (
	ReasonBuildFailed        Reason = Reason(meta.BuildFailedReason)
	ReasonDependencyNotReady Reason = Reason(meta.DependencyNotReadyReason)
	ReasonHealthCheckFailed  Reason = Reason(meta.HealthCheckFailedReason)
	ReasonPruneFailed        Reason = Reason(meta.PruneFailedReason)
	// ReasonApplyFailed: the server-side apply (or its dry-run) failed.
	ReasonApplyFailed Reason = "ApplyFailed"
	// ReasonReleaseFailed: one of the Kustomization's Helm releases failed.
	ReasonReleaseFailed Reason = "ReleaseFailed"
	// ReasonUnsupported: the Kustomization asks for what slipway does not do
	// (spec.kubeConfig).
	ReasonUnsupported Reason = "Unsupported"
	// ReasonDecryptionFailed: an object is still SOPS-encrypted.
	ReasonDecryptionFailed Reason = "DecryptionFailed"
	// ReasonEmptyBuild: the build would prune everything deployed before.
	ReasonEmptyBuild Reason = "EmptyBuild"
	// ReasonOwnershipConflict: objects are managed by someone else.
	ReasonOwnershipConflict Reason = "OwnershipConflict"
	// ReasonInventoryFailed: the inventory could not be read or written.
	ReasonInventoryFailed Reason = "InventoryFailed"
	// ReasonValidationFailed: validation found errors, so it was not
	// deployed.
	ReasonValidationFailed Reason = "ValidationFailed"
	// ReasonLockUnavailable: another run holds the cluster path's lock.
	ReasonLockUnavailable Reason = "LockUnavailable"
	// ReasonLockLost: the lock could not be renewed mid-deploy.
	ReasonLockLost Reason = "LockLost"
	// ReasonOutOfOrder: the cluster path already runs a newer commit.
	ReasonOutOfOrder Reason = "OutOfOrder"
	// ReasonRemovedKustomization: a Kustomization deployed before left the
	// build and pruning removed ones was not asked for.
	ReasonRemovedKustomization Reason = "RemovedKustomization"
	// ReasonInventoryConflict: two Kustomizations would share an inventory.
	ReasonInventoryConflict Reason = "InventoryConflict"
	// ReasonClusterUnavailable: the API server could not be used.
	ReasonClusterUnavailable Reason = "ClusterUnavailable"
	// ReasonArtifactFailed: a source (GitRepository, OCIRepository,
	// Bucket, chart repository) could not be fetched or resolved.
	ReasonArtifactFailed Reason = Reason(meta.ArtifactFailedReason)
	// ReasonRenderFailed: a HelmRelease's chart did not render (values,
	// templates, kubeVersion, spec).
	ReasonRenderFailed Reason = "RenderFailed"
	// ReasonNotFound: what was asked for does not exist: a chart version,
	// a cluster path never deployed, a revision's cluster path.
	ReasonNotFound Reason = "NotFound"
	// ReasonForbidden: the credentials may not read or change it.
	ReasonForbidden Reason = "Forbidden"
)

// Fail records a Kustomization's failure: its status, reason and error.
// Error keeps the text for renderers and JSON; Err keeps the value.
func (k *KustomizationDeploy) Fail(status Status, reason Reason, err error) {
	k.Status, k.Reason, k.Err, k.Error = status, reason, err, err.Error()
}

// Fail records a failure of the whole cluster path.
func (c *ClusterDeploy) Fail(reason Reason, err error) {
	c.Reason, c.Err, c.Error = reason, err, err.Error()
	c.OutOfOrder = reason == ReasonOutOfOrder
}

// ReasonError carries a Reason with an error through an engine's stages.
type ReasonError struct {
	Reason Reason
	Err    error
}

func (e *ReasonError) Error() string { return e.Err.Error() }
func (e *ReasonError) Unwrap() error { return e.Err }

// Because wraps err with its reason; nil stays nil.
func Because(reason Reason, err error) error {
	if err == nil {
		return nil
	}
	return &ReasonError{Reason: reason, Err: err}
}

// ReasonOf returns the reason err carries, or def when it carries none.
func ReasonOf(err error, def Reason) Reason {
	var re *ReasonError
	if errors.As(err, &re) {
		return re.Reason
	}
	return def
}
