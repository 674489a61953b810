package build_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// TestReasonOf classifies build errors by type through every wrap, the
// way the build returns them (a KustomizationError around the cause);
// an error of unknown type takes the default, whatever its text says.
func TestReasonOf(t *testing.T) {
	ref := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	wrap := func(err error) error {
		return &build.KustomizationError{Ref: ref, Err: fmt.Errorf("postBuild: %w", err)}
	}
	for _, tc := range []struct {
		name string
		err  error
		want result.Reason
	}{
		{"no error", nil, ""},
		{"no SOPS key", wrap(&build.DecryptError{Kind: "Secret", Namespace: "a", Name: "b", Err: build.ErrNoKey}), result.ReasonDecryptionFailed},
		{"MAC mismatch", wrap(build.ErrMACMismatch), result.ReasonDecryptionFailed},
		{"encrypted values", wrap(&build.EncryptedValuesError{Secret: "a/b"}), result.ReasonDecryptionFailed},
		{"chart version missing", wrap(&helm.ChartNotFoundError{Chart: "web", Constraint: "9.x", Source: "HelmRepository a/b"}), result.ReasonNotFound},
		{"chart repository down", wrap(&helm.SourceError{Kind: "HelmRepository", Namespace: "a", Name: "b", StatusCode: 503, Reason: "index"}), result.ReasonArtifactFailed},
		{"git fetch", wrap(&source.GitError{URL: "https://example.invalid/x", Err: errors.New("EOF")}), result.ReasonArtifactFailed},
		{"sourceRef unknown", wrap(&build.SourceError{Kind: "GitRepository", Namespace: "a", Name: "b", Reason: "not declared"}), result.ReasonArtifactFailed},
		{"template", wrap(&helm.TemplateError{Chart: "web", Err: errors.New("fail")}), result.ReasonRenderFailed},
		{"values", wrap(&helm.ValuesError{Where: "chart web", Err: errors.New("bad")}), result.ReasonRenderFailed},
		{"reason carried", wrap(result.Because(result.ReasonUnsupported, errors.New("x"))), result.ReasonUnsupported},
		// Text that names a cause is not a cause.
		{"untyped, misleading text", errors.New("chart not found: decrypting failed"), result.ReasonBuildFailed},
	} {
		if got := build.ReasonOf(tc.err, result.ReasonBuildFailed); got != tc.want {
			t.Errorf("%s: ReasonOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}
