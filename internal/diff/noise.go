package diff

import (
	"path"
	"sort"
)

// Noise says what a comparison ignores: churn that changes on every chart
// bump or rollout and tells a reviewer nothing. It is applied before
// objects are compared, so an object that differs only in ignored fields
// is unchanged.
type Noise struct {
	// StripLabels and StripAnnotations are label and annotation keys, or
	// path.Match patterns ("checksum/*"), removed from every metadata of
	// an object: its own and its templates' (Pod templates, job templates,
	// volume claim templates). Selectors are left alone.
	StripLabels      []string `json:"stripLabels,omitempty"`
	StripAnnotations []string `json:"stripAnnotations,omitempty"`
	// SkipKinds are kinds (e.g. CustomResourceDefinition, Secret) whose
	// objects are not compared at all.
	SkipKinds []string `json:"skipKinds,omitempty"`
}

// DefaultNoise strips what changes with every chart version and every
// config change without saying anything the rest of the diff does not:
// the chart labels Helm's own scaffold (helm create) stamps on every object
// — helm.sh/chart, chart, app.kubernetes.io/version, the same attributes
// flux-local strips by default — and the checksum/* annotations charts put
// on Pod templates to roll them when a ConfigMap changes (the ConfigMap's
// own diff shows that change). Nothing is skipped by kind.
func DefaultNoise() Noise {
	return Noise{
		StripLabels:      []string{"helm.sh/chart", "chart", "app.kubernetes.io/version"},
		StripAnnotations: []string{"checksum/*"},
	}
}

// Empty reports whether nothing is ignored.
func (n Noise) Empty() bool {
	return len(n.StripLabels)+len(n.StripAnnotations)+len(n.SkipKinds) == 0
}

// Ignored is the noise a comparison ignored, for renderers to say so.
type Ignored struct {
	Noise
	// Skipped counts the objects not compared because of their kind.
	Skipped int `json:"skipped,omitempty"`
}

// skips reports whether objects of a kind are not compared.
func (n Noise) skips(kind string) bool {
	for _, k := range n.SkipKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// strip removes the matching labels and annotations from every
// "metadata" map in obj, recursively (an object's templates carry their
// own). It changes obj; callers pass a copy.
func (n Noise) strip(obj map[string]any) {
	if len(n.StripLabels)+len(n.StripAnnotations) == 0 {
		return
	}
	n.walk(obj)
}

func (n Noise) walk(v any) {
	switch t := v.(type) {
	case map[string]any:
		if md, ok := t["metadata"].(map[string]any); ok {
			stripKeys(md, "labels", n.StripLabels)
			stripKeys(md, "annotations", n.StripAnnotations)
		}
		for k, c := range t {
			if k != "metadata" {
				n.walk(c)
			}
		}
	case []any:
		for _, c := range t {
			n.walk(c)
		}
	}
}

// stripKeys deletes the keys of md[field] that match a pattern, and the
// field itself when that empties it.
func stripKeys(md map[string]any, field string, patterns []string) {
	m, ok := md[field].(map[string]any)
	if !ok || len(patterns) == 0 {
		return
	}
	for k := range m {
		if matchAny(patterns, k) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		delete(md, field)
	}
}

func matchAny(patterns []string, key string) bool {
	for _, p := range patterns {
		if p == key {
			return true
		}
		if ok, err := path.Match(p, key); err == nil && ok {
			return true
		}
	}
	return false
}

// ValidatePatterns reports the first malformed pattern (path.Match
// syntax), so a typo is a usage error rather than a silently ignored
// pattern.
func (n Noise) ValidatePatterns() error {
	ps := append(append([]string(nil), n.StripLabels...), n.StripAnnotations...)
	sort.Strings(ps)
	for _, p := range ps {
		if _, err := path.Match(p, ""); err != nil {
			return &PatternError{Pattern: p, Err: err}
		}
	}
	return nil
}

// PatternError is a malformed strip pattern.
type PatternError struct {
	Pattern string
	Err     error
}

func (e *PatternError) Error() string { return "pattern " + e.Pattern + ": " + e.Err.Error() }

// Unwrap returns path.ErrBadPattern.
func (e *PatternError) Unwrap() error { return e.Err }
