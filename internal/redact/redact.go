// Package redact keeps secret values out of everything slipway prints:
// Secret objects lose their values (keys stay), and values that left a
// Secret — decrypted, substituted — are masked wherever they surface.
// Every renderer (report, diff) uses this one implementation.
package redact

import (
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Marker replaces every secret value.
const Marker = "**redacted**"

// minLen: shorter values ("1", "on") would mangle unrelated text when
// masked; a value that short is no secret worth the damage.
const minLen = 4

// Masker replaces known secret values in text.
type Masker struct {
	r *strings.Replacer
}

// NewMasker masks the given values line by line, longest first so a value
// containing another is masked whole (ties in order, so the result does not
// depend on the order of the input).
func NewMasker(values []string) *Masker {
	uniq := map[string]bool{}
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= minLen {
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
		pairs = append(pairs, v, Marker)
	}
	return &Masker{r: strings.NewReplacer(pairs...)}
}

// Mask returns s with every secret value replaced, and the password of
// every URL (see URLs).
func (m *Masker) Mask(s string) string {
	if m != nil && m.r != nil {
		s = m.r.Replace(s)
	}
	return URLs(s)
}

// userinfo matches a URL's scheme and userinfo: "https://user:pass@".
var userinfo = regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#@\s:]*)(:[^/?#@\s]*)?@`)

// URLs returns s with the credentials of every URL in it replaced: the
// password of "scheme://user:password@host", and the whole userinfo of an
// HTTP URL without one ("https://TOKEN@host" is how tokens are often
// given). SSH's "ssh://git@host" keeps its user, which is no secret.
// Credentials in a HelmRepository's or GitRepository's URL reach error
// messages from Helm, go-git and net/url verbatim; every renderer masks
// through here.
func URLs(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		scheme, user, pass := sub[1], sub[2], sub[3]
		switch {
		case pass != "":
			return scheme + user + ":" + Marker + "@"
		case user != "" && isHTTP(scheme):
			return scheme + Marker + "@"
		}
		return m
	})
}

func isHTTP(scheme string) bool {
	s := strings.ToLower(scheme)
	return s == "http://" || s == "https://" || s == "oci://"
}

// Values replaces the values of a Secret's data and stringData in place,
// keeping the keys.
func Values(u *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		m, ok, _ := unstructured.NestedMap(u.Object, field)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = Marker
		}
		_ = unstructured.SetNestedMap(u.Object, m, field)
	}
}

// Secret returns a copy of a core Secret with its values replaced, keys
// kept; other kinds are returned as they are.
func Secret(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return u
	}
	cp := u.DeepCopy()
	Values(cp)
	return cp
}

// Counterpart hides, in live, the values at the places where desired holds
// a secret value: a field the build fills from a Secret (substituted, say)
// holds an older secret value in the cluster, which no masker knows. A
// live value equal to the desired one is left as it is (the masker hides
// it like the desired one); a different one becomes Marker, so a diff
// still shows that it changes, never what it was.
func Counterpart(desired, live map[string]any, m *Masker) {
	counterpart(desired, live, m)
}

func counterpart(desired, live any, m *Masker) any {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live
		}
		for k, dv := range d {
			if lv, ok := l[k]; ok {
				l[k] = counterpart(dv, lv, m)
			}
		}
		return l
	case []any:
		l, ok := live.([]any)
		if !ok {
			return live
		}
		for i := range min(len(d), len(l)) {
			l[i] = counterpart(d[i], l[i], m)
		}
		return l
	case string:
		if m.Mask(d) == d {
			return live // no secret here
		}
		if l, ok := live.(string); ok && l == d {
			return live
		}
		return Marker
	}
	return live
}

// Err returns err with its text masked, nil for nil. The error it wraps
// stays reachable (errors.As, errors.Is) so callers still classify it by
// type; print only the returned error's Error(), never an unwrapped one.
func (m *Masker) Err(err error) error {
	if err == nil {
		return nil
	}
	return &MaskedError{msg: m.Mask(err.Error()), err: err}
}

// MaskedError is an error whose text had secret values masked.
type MaskedError struct {
	msg string
	err error
}

func (e *MaskedError) Error() string { return e.msg }

// Unwrap returns the unmasked error, for errors.As and errors.Is.
func (e *MaskedError) Unwrap() error { return e.err }
