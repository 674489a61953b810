package diff

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// redacted replaces every Secret value in a diff (the same marker the
// other renderers use).
const redacted = "**redacted**"

// minMaskLen mirrors report.Masker: shorter values would mangle unrelated
// text and carry little secret material.
const minMaskLen = 4

func isSecret(u *unstructured.Unstructured) bool {
	return u.GetKind() == "Secret" && u.GroupVersionKind().Group == ""
}

// secretHashes returns, per data key, a salted hash of the value the API
// server would store (stringData overriding data, data base64-decoded).
// Only hashes leave this function; the salt is random per comparison, so
// they cannot be looked up or compared across runs.
func secretHashes(u *unstructured.Unstructured, salt []byte) map[string]string {
	values := map[string]string{}
	data, _, _ := unstructured.NestedMap(u.Object, "data")
	for k, v := range data {
		s, _ := v.(string)
		if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
			s = string(dec)
		}
		values[k] = s
	}
	sd, _, _ := unstructured.NestedMap(u.Object, "stringData")
	for k, v := range sd {
		s, _ := v.(string)
		values[k] = s
	}
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
func redact(u *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		m, ok, _ := unstructured.NestedMap(u.Object, field)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = redacted
		}
		_ = unstructured.SetNestedMap(u.Object, m, field)
	}
}

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

// masker removes values that left Secrets (decrypted, substituted) from
// text, longest first, line by line as report.Masker does.
type masker struct{ r *strings.Replacer }

func newMasker(values []string) *masker {
	uniq := map[string]bool{}
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= minMaskLen {
				uniq[line] = true
			}
		}
	}
	list := make([]string, 0, len(uniq))
	for v := range uniq {
		list = append(list, v)
	}
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	pairs := make([]string, 0, 2*len(list))
	for _, v := range list {
		pairs = append(pairs, v, redacted)
	}
	return &masker{r: strings.NewReplacer(pairs...)}
}

func (m *masker) mask(s string) string {
	if m == nil || m.r == nil {
		return s
	}
	return m.r.Replace(s)
}
