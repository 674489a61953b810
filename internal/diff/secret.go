package diff

import (
	"crypto/hmac"
	"crypto/sha256"
	redactpkg "github.com/slipwayhq/slipway/internal/redact"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/kube"
)

func isSecret(u *unstructured.Unstructured) bool {
	return u.GetKind() == "Secret" && u.GroupVersionKind().Group == ""
}

// secretHashes returns, per data key, a salted hash of the value the API
// server would store (stringData overriding data, data base64-decoded).
// Only hashes leave this function; the salt is random per comparison, so
// they cannot be looked up or compared across runs.
func secretHashes(u *unstructured.Unstructured, salt []byte) map[string]string {
	values := kube.DataValues(u)
	out := make(map[string]string, len(values))
	for k, v := range values {
		m := hmac.New(sha256.New, salt)
		m.Write([]byte(k))
		m.Write([]byte{0})
		m.Write([]byte(v))
		out[k] = string(m.Sum(nil))
	}
	return out
}

// redact replaces Secret values with the marker, keeping the keys.
func redact(u *unstructured.Unstructured) { redactpkg.Values(u) }

func compareKeys(a, b map[string]string) *SecretKeys {
	s := &SecretKeys{}
	for k, v := range b {
		if w, ok := a[k]; !ok {
			s.Added = append(s.Added, k)
		} else if w != v {
			s.Changed = append(s.Changed, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			s.Removed = append(s.Removed, k)
		}
	}
	sort.Strings(s.Added)
	sort.Strings(s.Removed)
	sort.Strings(s.Changed)
	return s
}
