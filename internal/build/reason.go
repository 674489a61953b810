package build

import (
	"errors"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// ReasonOf classifies why a Kustomization did not build or a HelmRelease
// did not render, by the error types the build and its sources return
// (errors.As through every wrap): a reason an error already carries
// (result.Because) first, then decryption, missing charts, sources, chart
// rendering; def when none matches. Never by the error's text.
func ReasonOf(err error, def result.Reason) result.Reason {
	if err == nil {
		return ""
	}
	var re *result.ReasonError
	switch {
	case errors.As(err, &re):
		return re.Reason
	case isDecryption(err):
		return result.ReasonDecryptionFailed
	case isAs[*helm.ChartNotFoundError](err):
		return result.ReasonNotFound
	case isSource(err):
		return result.ReasonArtifactFailed
	case isAs[*helm.TemplateError](err), isAs[*helm.ValuesError](err),
		isAs[*helm.KubeVersionError](err), isAs[*helm.SpecError](err):
		return result.ReasonRenderFailed
	}
	return def
}

func isDecryption(err error) bool {
	return errors.Is(err, ErrNoKey) || errors.Is(err, ErrMACMismatch) ||
		isAs[*DecryptError](err) || isAs[*KeysError](err) ||
		isAs[*SecretKeyError](err) || isAs[*EncryptedValuesError](err)
}

func isSource(err error) bool {
	return isAs[*SourceError](err) || isAs[*helm.SourceError](err) || isAs[*helm.StatusError](err) ||
		isAs[*source.GitError](err) || isAs[*source.OCIError](err) ||
		isAs[*source.BucketError](err) || isAs[*source.RevisionError](err)
}

// isAs reports whether err's chain holds a T.
func isAs[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
