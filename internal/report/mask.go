package report

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/internal/result"
)

// Redacted replaces every Secret value slipway prints.
const Redacted = redact.Marker

// Masker removes known secret values from text (internal/redact's, shared
// with the diff).
type Masker = redact.Masker

// NewMasker masks the given values, longest first so a value containing
// another is masked whole.
func NewMasker(values []string) *Masker { return redact.NewMasker(values) }

// MaskerFor masks the secret values of every given cluster build.
func MaskerFor(builds []*result.ClusterBuild) *Masker {
	var values []string
	for _, cb := range builds {
		values = append(values, cb.Sensitive...)
	}
	return NewMasker(values)
}

// RedactSecret returns a copy of a Secret with its values replaced, keys
// kept, so output shows the shape without the content. Other kinds are
// returned as they are.
func RedactSecret(u *unstructured.Unstructured) *unstructured.Unstructured {
	return redact.Secret(u)
}
