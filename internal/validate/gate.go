package validate

import (
	"fmt"

	"github.com/slipwayhq/slipway/internal/result"
)

// InvalidError marks a Kustomization that built but failed validation:
// the deploy engine applies nothing of it, as for a build error.
type InvalidError struct {
	Findings []result.Finding
}

func (e *InvalidError) Error() string {
	first := e.Findings[0]
	msg := first.Message
	if first.Object != nil {
		msg = first.Object.String() + ": " + msg
	}
	if o := first.Origin.String(); o != "" {
		msg = o + ": " + msg
	}
	if n := len(e.Findings); n > 1 {
		return fmt.Sprintf("not deployed: %d validation errors, the first: %s", n, msg)
	}
	return "not deployed: validation error: " + msg
}

// Gate turns validation errors into build errors of the Kustomizations
// they belong to, so that a deploy applies nothing of an invalid
// Kustomization (and blocks what depends on it) while independent ones go
// ahead, as Flux treats Kustomizations independently. It returns the
// errors that belong to no Kustomization (a cluster path that builds no object, say): with
// those, the caller should deploy nothing of the cluster path.
func Gate(cb *result.ClusterBuild) (unowned []result.Finding) {
	byRef := map[result.KustomizationRef][]result.Finding{}
	for _, f := range cb.Findings {
		if f.Severity != result.SeverityError {
			continue
		}
		if f.Kustomization == nil {
			unowned = append(unowned, f)
			continue
		}
		byRef[*f.Kustomization] = append(byRef[*f.Kustomization], f)
	}
	for _, kb := range cb.Kustomizations {
		if fs := byRef[kb.Ref]; len(fs) > 0 && kb.Err == nil {
			kb.Err = result.Because(result.ReasonValidationFailed, &InvalidError{Findings: fs})
		}
	}
	return unowned
}

// UnownedError is why a cluster path with errors outside any
// Kustomization (see Gate) is not deployed at all.
func UnownedError(unowned []result.Finding) error {
	return result.Because(result.ReasonValidationFailed, fmt.Errorf("not deployed: %d validation error(s) outside any Kustomization, the first: %s", len(unowned), unowned[0].Message))
}

// NotDeployed is the deploy result of a cluster path Gate found errors
// outside any Kustomization in: failed with ReasonValidationFailed,
// nothing applied. The CLI and the action both record this value, so
// `apply -o json`, the check run and the job summary say the same.
func NotDeployed(clusterPath string, unowned []result.Finding) *result.ClusterDeploy {
	cd := &result.ClusterDeploy{Path: clusterPath}
	cd.Fail(result.ReasonValidationFailed, UnownedError(unowned))
	return cd
}
