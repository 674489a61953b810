package diff

import (
	"github.com/slipwayhq/slipway/internal/images"
	"github.com/slipwayhq/slipway/internal/result"
)

// Action is how something differs between the base and the head revision.
type Action string

// Actions.
const (
	Added     Action = "added"
	Removed   Action = "removed"
	Changed   Action = "changed"
	Moved     Action = "moved"
	Unchanged Action = "unchanged"
	// Failed: the Kustomization did not build in one of the revisions, so
	// its objects are not compared (they would all look added or removed).
	Failed Action = "failed"
)

// Result is the difference between two revisions, per cluster path.
type Result struct {
	// Base and Head name the revisions compared ("" head: the worktree).
	Base     string         `json:"base"`
	Head     string         `json:"head"`
	Clusters []*ClusterDiff `json:"clusters"`
	// Drift, in a comparison with the cluster given a base revision, are
	// the objects changed in the cluster by hand: the base (what was
	// applied) is the "from" side, the live object the "to" side.
	Drift []*ClusterDiff `json:"drift,omitempty"`
	// DriftBase is the revision drift is measured from.
	DriftBase string `json:"driftBase,omitempty"`
	// Ignored is the noise the comparison ignored (nil: none), for the
	// renderers to say what was stripped.
	Ignored *Ignored `json:"ignored,omitempty"`
}

// ClusterDiff is the difference of one cluster path.
type ClusterDiff struct {
	Path string `json:"path"`
	// Action is added or removed when the cluster path exists in one
	// revision only, changed when anything in it differs.
	Action         Action               `json:"action"`
	Kustomizations []*KustomizationDiff `json:"kustomizations,omitempty"`
	// Errors are build errors of either revision, with file and line.
	Errors []BuildError `json:"errors,omitempty"`
	Counts Counts       `json:"counts"`
	// ImageChanges are the container images added, removed or updated
	// (same repository, another tag or digest), per Kustomization and
	// HelmRelease.
	ImageChanges []images.Change `json:"imageChanges,omitempty"`
}

// BuildError is an error finding of one revision's build.
type BuildError struct {
	// Revision is "head" (new in the head), "base" (fixed by the head) or
	// "both" (already failing on the base, still failing: reported once,
	// and not a change).
	Revision string         `json:"revision"`
	Finding  result.Finding `json:"finding"`
}

// Counts summarise the object changes of a cluster path.
type Counts struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
	Moved   int `json:"moved"`
}

// Total is the number of objects that differ.
func (c Counts) Total() int { return c.Added + c.Changed + c.Removed + c.Moved }

// KustomizationDiff is the difference of one Flux Kustomization: its own
// objects, then its HelmReleases' rendered objects.
type KustomizationDiff struct {
	Ref    result.KustomizationRef `json:"kustomization"`
	Action Action                  `json:"action"`
	// Origin is where the Kustomization object is defined (head, else base).
	Origin   result.Origin  `json:"origin,omitempty"`
	Objects  []*ObjectDiff  `json:"objects,omitempty"`
	Releases []*ReleaseDiff `json:"releases,omitempty"`
	// Error says why it is Failed (masked text, for renderers and JSON);
	// Err is the build's error behind it, its text masked as Error's (it
	// unwraps to the build's error), and Reason its class (see
	// build.ReasonOf); the three are set together.
	Error  string        `json:"error,omitempty"`
	Reason result.Reason `json:"reason,omitempty"`
	Err    error         `json:"-"`
}

// ReleaseDiff is the difference of one HelmRelease's rendered objects.
type ReleaseDiff struct {
	Ref    result.KustomizationRef `json:"helmRelease"`
	Action Action                  `json:"action"`
	// ChartFrom and ChartTo are set when the resolved chart changed.
	ChartFrom *result.ChartRef `json:"chartFrom,omitempty"`
	ChartTo   *result.ChartRef `json:"chartTo,omitempty"`
	// ValuesChanged: the composed values differ (they are never shown).
	ValuesChanged bool          `json:"valuesChanged,omitempty"`
	Objects       []*ObjectDiff `json:"objects,omitempty"`
	// Error, Reason and Err say why it is Failed, as KustomizationDiff's.
	Error  string        `json:"error,omitempty"`
	Reason result.Reason `json:"reason,omitempty"`
	Err    error         `json:"-"`
}

// ObjectDiff is one object that differs.
type ObjectDiff struct {
	ID     result.ObjectID `json:"id"`
	Action Action          `json:"action"`
	// Origin is the file and line it comes from (head, else base).
	Origin result.Origin `json:"origin,omitempty"`
	// From names the unit a moved object left ("Kustomization ns/name" or
	// "HelmRelease ns/name"); it now belongs to the unit it is listed in.
	From string `json:"from,omitempty"`
	// Diff is a unified diff of the object's YAML (keys sorted, owner
	// labels removed, Secret values redacted, secret values masked).
	Diff string `json:"diff,omitempty"`
	// SecretKeys say which keys of a Secret changed, without values.
	SecretKeys *SecretKeys `json:"secretKeys,omitempty"`
	// Notes explain changes the diff cannot show (masked values, a Secret
	// compared by its encrypted content).
	Notes []string `json:"notes,omitempty"`
	// Kept says why a removed object stays in the cluster, no longer
	// managed: prune disabled on it, or Helm's keep resource policy.
	Kept string `json:"kept,omitempty"`
}

// SecretKeys lists the data keys of a Secret that differ.
type SecretKeys struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

// Empty reports whether no key differs.
func (s *SecretKeys) Empty() bool {
	return s == nil || len(s.Added)+len(s.Removed)+len(s.Changed) == 0
}

// HasChanges reports whether anything differs in any cluster path.
func (r *Result) HasChanges() bool {
	for _, c := range r.Clusters {
		if c.Action != Unchanged {
			return true
		}
	}
	return false
}

// HasErrors reports whether either revision failed to build somewhere.
func (r *Result) HasErrors() bool {
	for _, c := range r.Clusters {
		if len(c.Errors) > 0 {
			return true
		}
	}
	return false
}

// HasNewErrors reports errors of the head that the base did not have:
// what a change broke. Errors already failing on the base are not the
// change's doing.
func (r *Result) HasNewErrors() bool {
	for _, c := range r.Clusters {
		for _, e := range c.Errors {
			if e.Revision == RevisionHead {
				return true
			}
		}
	}
	return false
}

// Revisions a BuildError belongs to.
const (
	RevisionBase = "base"
	RevisionHead = "head"
	RevisionBoth = "both"
)

// ChangedPaths returns the cluster paths whose output differs.
func (r *Result) ChangedPaths() []string {
	out := []string{}
	for _, c := range r.Clusters {
		if c.Action != Unchanged {
			out = append(out, c.Path)
		}
	}
	return out
}

// ForPath returns the result restricted to one cluster path (nil when the
// result has no such path), for renderers that report path by path.
func (r *Result) ForPath(path string) *Result {
	for _, c := range r.Clusters {
		if c.Path == path {
			return &Result{Base: r.Base, Head: r.Head, Clusters: []*ClusterDiff{c}, Ignored: r.Ignored}
		}
	}
	return nil
}

// ImageChange is one image change of a cluster path.
type ImageChange struct {
	Path string `json:"path"`
	images.Change
}

// ImageChanges lists the image changes of every cluster path, in order:
// the action's image-changes output, one matrix entry each.
func (r *Result) ImageChanges() []ImageChange {
	out := []ImageChange{}
	for _, c := range r.Clusters {
		for _, ic := range c.ImageChanges {
			out = append(out, ImageChange{Path: c.Path, Change: ic})
		}
	}
	return out
}
