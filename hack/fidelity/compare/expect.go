package compare

import (
	"fmt"
	"sort"
	"strings"
)

// Expectations are what a fixture declares about itself: the slipway
// flags it needs and the differences from the Flux CLI it shows on
// purpose, each with its reason. An expectation that no difference meets
// is stale and fails the run, so none outlives the behaviour it named.
type Expectations struct {
	// SlipwayArgs are added to `slipway build` (e.g. a SOPS key file).
	SlipwayArgs []string      `json:"slipwayArgs,omitempty"`
	Expect      []Expectation `json:"expect,omitempty"`
	used        []bool
}

// Expectation is one difference a fixture shows on purpose.
type Expectation struct {
	// Path is the cluster path.
	Path string `json:"path"`
	// Kustomization is NAMESPACE/NAME; "" matches any.
	Kustomization string `json:"kustomization,omitempty"`
	// Object is APIVERSION/KIND/NAMESPACE/NAME; "" matches any.
	Object  string  `json:"object,omitempty"`
	Outcome Outcome `json:"outcome"`
	// Reason says why; required.
	Reason string `json:"reason"`
}

// Validate refuses an expectation without a reason or an outcome.
func (e *Expectations) Validate() error {
	for i, x := range e.Expect {
		if strings.TrimSpace(x.Reason) == "" || x.Outcome == "" || x.Path == "" {
			return fmt.Errorf("expect[%d]: path, outcome and reason are required", i)
		}
	}
	return nil
}

// explain returns the reason a declared expectation gives for a
// difference, and marks the expectation met.
func (e *Expectations) explain(path, ks string, outcome Outcome, id string) (Reason, bool) {
	if e == nil {
		return "", false
	}
	if e.used == nil {
		e.used = make([]bool, len(e.Expect))
	}
	for i, x := range e.Expect {
		if x.Path == path && x.Outcome == outcome && (x.Kustomization == "" || x.Kustomization == ks) && (x.Object == "" || x.Object == id) {
			e.used[i] = true
			return Reason("expected: " + x.Reason), true
		}
	}
	return "", false
}

// Stale lists the expectations no difference met.
func (e *Expectations) Stale() []Expectation {
	if e == nil {
		return nil
	}
	var out []Expectation
	for i, x := range e.Expect {
		if e.used == nil || !e.used[i] {
			out = append(out, x)
		}
	}
	return out
}

// Report sums the comparisons of one repository.
type Report struct {
	Repo        string
	Identical   int
	Explained   map[Reason]int
	Unexplained int // objects both built, differently
	Missing     int // built by Flux only
	Extra       int // built by slipway only
	Failed      int // Kustomizations only one tool (or neither) could build
	// NotCompared counts Kustomizations the Flux CLI cannot build here
	// (their source is not this repository's tree); not a failure.
	NotCompared int
	// Lines describe every unexplained difference, one per line.
	Lines []string
	Stale []Expectation
}

// NewReport starts the report of repo.
func NewReport(repo string) *Report { return &Report{Repo: repo, Explained: map[Reason]int{}} }

// Add records one Kustomization's comparison; e may explain what the
// built-in reasons do not.
func (r *Report) Add(path, ks string, res Result, e *Expectations) {
	r.Identical += res.Identical
	for _, it := range res.Items {
		if it.Reason == "" {
			it.Reason, _ = e.explain(path, ks, it.Outcome, it.ID.String())
		}
		if it.Reason != "" {
			r.Explained[it.Reason]++
			continue
		}
		switch it.Outcome {
		case Missing:
			r.Missing++
		case Extra:
			r.Extra++
		default:
			r.Unexplained++
		}
		line := fmt.Sprintf("%s %s %s %s", path, ks, it.Outcome, it.ID)
		if it.Pair != nil {
			line += ": " + strings.Join(it.Pair.Fields, "; ")
		}
		r.Lines = append(r.Lines, line)
	}
}

// AddFailure records a Kustomization that could not be compared
// (outcome SlipwayFails, FluxFails or NotCompared), unless e expects it.
func (r *Report) AddFailure(path, ks string, outcome Outcome, msg string, e *Expectations) {
	if reason, ok := e.explain(path, ks, outcome, ""); ok {
		r.Explained[reason]++
		return
	}
	if outcome == NotCompared {
		r.NotCompared++
		r.Lines = append(r.Lines, fmt.Sprintf("%s %s %s: %s", path, ks, outcome, msg))
		return
	}
	r.Failed++
	r.Lines = append(r.Lines, fmt.Sprintf("%s %s %s: %s", path, ks, outcome, msg))
}

// Finish records the stale expectations.
func (r *Report) Finish(e *Expectations) { r.Stale = e.Stale() }

// OK is true when every difference is explained and every expectation met.
func (r *Report) OK() bool {
	return r.Unexplained+r.Missing+r.Extra+r.Failed+len(r.Stale) == 0
}

// Summary is the report's first line.
func (r *Report) Summary() string {
	n := 0
	for _, c := range r.Explained {
		n += c
	}
	s := fmt.Sprintf("%s: %d identical, %d explained, %d unexplained, %d missing, %d extra, %d failed",
		r.Repo, r.Identical, n, r.Unexplained, r.Missing, r.Extra, r.Failed)
	if r.NotCompared > 0 {
		s += fmt.Sprintf(", %d not compared", r.NotCompared)
	}
	return s
}

// ExplainedLines lists the explained differences by reason, sorted.
func (r *Report) ExplainedLines() []string {
	var out []string
	for reason, c := range r.Explained {
		out = append(out, fmt.Sprintf("%s: %d", reason, c))
	}
	sort.Strings(out)
	return out
}
