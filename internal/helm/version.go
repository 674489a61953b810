package helm

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// candidate is one published version of a chart.
type candidate struct {
	version string
	created time.Time
}

// selectVersion mirrors source-controller: an exact string match wins;
// otherwise the constraint ("" and "*" mean the latest stable) picks the
// highest matching semantic version, ties broken by creation time.
// Prereleases match only a constraint that names one.
func selectVersion(cands []candidate, constraint string) (string, error) {
	if constraint != "" {
		for _, c := range cands {
			if c.version == constraint {
				return c.version, nil
			}
		}
	}
	expr := constraint
	if expr == "" {
		expr = "*"
	}
	cons, err := semver.NewConstraint(expr)
	if err != nil {
		return "", fmt.Errorf("invalid version constraint %q: %v", constraint, err)
	}
	var best *semver.Version
	var bestC candidate
	for _, c := range cands {
		v, err := parseVersion(c.version)
		if err != nil || !cons.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && c.created.After(bestC.created)) {
			best, bestC = v, c
		}
	}
	if best == nil {
		return "", errNoMatch
	}
	return bestC.version, nil
}

var errNoMatch = fmt.Errorf("no matching version")

// parseVersion accepts full semantic versions only (X.Y.Z[-pre][+meta]),
// like fluxcd/pkg/version.ParseVersion.
func parseVersion(s string) (*semver.Version, error) {
	core := strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	if strings.Count(core, ".") != 2 {
		return nil, fmt.Errorf("%q is not a full semantic version", s)
	}
	return semver.NewVersion(s)
}

// nearestVersions lists up to five published versions closest to the
// constraint: those just below and above its first bound, newest first.
func nearestVersions(cands []candidate, constraint string) []string {
	var vs []*semver.Version
	orig := map[*semver.Version]string{}
	for _, c := range cands {
		v, err := parseVersion(c.version)
		if err != nil {
			continue
		}
		vs = append(vs, v)
		orig[v] = c.version
	}
	sort.Sort(sort.Reverse(semver.Collection(vs)))
	if len(vs) == 0 {
		return nil
	}
	// Anchor on the first version-looking token of the constraint.
	var anchor *semver.Version
	for _, tok := range strings.FieldsFunc(constraint, func(r rune) bool {
		return strings.ContainsRune(" ,|<>=~^!", r)
	}) {
		tok = strings.NewReplacer("x", "0", "X", "0", "*", "0").Replace(tok)
		if v, err := semver.NewVersion(tok); err == nil {
			anchor = v
			break
		}
	}
	const max = 5
	if anchor == nil {
		out := []string{}
		for i := 0; i < len(vs) && i < max; i++ {
			out = append(out, orig[vs[i]])
		}
		return out
	}
	// vs is descending: find the first at or below the anchor and take a
	// window around it.
	idx := len(vs)
	for i, v := range vs {
		if !v.GreaterThan(anchor) {
			idx = i
			break
		}
	}
	lo := idx - max/2
	if lo < 0 {
		lo = 0
	}
	hi := lo + max
	if hi > len(vs) {
		hi = len(vs)
		lo = max0(hi - max)
	}
	out := []string{}
	for _, v := range vs[lo:hi] {
		out = append(out, orig[v])
	}
	return out
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}
