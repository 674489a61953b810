package helmrelease

import (
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/internal/result"
)

var (
	// ErrNoChart is returned for a build that carries no chart archive.
	ErrNoChart = errors.New("no packaged chart in the build")
	// ErrNotRendered wraps the reason a HelmRelease could not be rendered.
	ErrNotRendered = errors.New("the HelmRelease was not rendered")
	// ErrRetriesExhausted says every attempt the remediation allowed failed.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrNoRollbackTarget is returned when a failed upgrade should be rolled
	// back but the release has no earlier successful revision.
	ErrNoRollbackTarget = errors.New("no earlier successful revision to roll back to")
)

// ReleaseError says which HelmRelease failed doing what. Err is Helm's own
// error (or one of this package's), which never carries values.
type ReleaseError struct {
	Ref result.KustomizationRef
	// Release is the Helm release name, when known.
	Release string
	// Op is what was being done: "installing", "upgrading", "rolling back" ...
	Op  string
	Err error
}

func (e *ReleaseError) Error() string {
	if e.Release != "" {
		return fmt.Sprintf("HelmRelease %s (release %s): %s: %v", e.Ref, e.Release, e.Op, e.Err)
	}
	return fmt.Sprintf("HelmRelease %s: %s: %v", e.Ref, e.Op, e.Err)
}

func (e *ReleaseError) Unwrap() error { return e.Err }
