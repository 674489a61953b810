package report

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
)

// Redacted replaces every Secret value slipway prints.
const Redacted = "**redacted**"

// minMaskLen: shorter values ("1", "on") would mangle unrelated text when
// masked; they carry little secret material anyway.
const minMaskLen = 4

// Masker removes known secret values from text.
type Masker struct {
	r *strings.Replacer
}

// NewMasker masks the given values, longest first so a value containing
// another is masked whole.
func NewMasker(values []string) *Masker {
	uniq := map[string]bool{}
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= minMaskLen {
				uniq[line] = true
			}
		}
	}
	list := make([]string, 0, len(uniq))
	for v := range uniq {
		list = append(list, v)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	pairs := make([]string, 0, 2*len(list))
	for _, v := range list {
		pairs = append(pairs, v, Redacted)
	}
	return &Masker{r: strings.NewReplacer(pairs...)}
}

// MaskerFor masks the secret values of every given cluster build.
func MaskerFor(builds []*result.ClusterBuild) *Masker {
	var values []string
	for _, cb := range builds {
		values = append(values, cb.Sensitive...)
	}
	return NewMasker(values)
}

// Mask returns s with every secret value replaced.
func (m *Masker) Mask(s string) string {
	if m == nil || m.r == nil {
		return s
	}
	return m.r.Replace(s)
}

// RedactSecret returns a copy of a Secret with its values replaced, keys
// kept, so output shows the shape without the content. Other kinds are
// returned as they are.
func RedactSecret(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return u
	}
	cp := u.DeepCopy()
	for _, field := range []string{"data", "stringData"} {
		m, ok, _ := unstructured.NestedMap(cp.Object, field)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = Redacted
		}
		_ = unstructured.SetNestedMap(cp.Object, m, field)
	}
	return cp
}
