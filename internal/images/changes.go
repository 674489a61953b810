package images

import (
	"sort"
)

// Change actions.
const (
	Added   = "added"
	Removed = "removed"
	// Updated: the same repository at another tag or digest.
	Updated = "updated"
)

// Change is one image change of one unit between two builds.
type Change struct {
	// Kind (Kustomization or HelmRelease), Namespace and Name say which
	// unit deploys the image.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Action is added, removed or updated.
	Action     string `json:"action"`
	Repository string `json:"repository"`
	// From is the base's reference (removed, updated), To the head's
	// (added, updated).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Image is the reference the head deploys (To), or the base's for a
	// removal: the one field a pre-pull matrix needs.
	Image string `json:"image"`
}

// UnitKey names a unit in Changes.
type UnitKey struct {
	Kind, Namespace, Name string
}

// Changes compares each unit's images between a base and a head: per
// repository, references only the head has and references only the base
// has are paired in sorted order as updates; those left over are added or
// removed. A unit missing on one side has all its images added or removed.
// The result is sorted by unit, repository and action.
func Changes(base, head map[UnitKey][]string) []Change {
	keys := map[UnitKey]bool{}
	for k := range base {
		keys[k] = true
	}
	for k := range head {
		keys[k] = true
	}
	var out []Change
	for k := range keys {
		out = append(out, unitChanges(k, base[k], head[k])...)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Kind != b.Kind:
			return a.Kind > b.Kind // Kustomization before HelmRelease
		case a.Namespace != b.Namespace:
			return a.Namespace < b.Namespace
		case a.Name != b.Name:
			return a.Name < b.Name
		case a.Repository != b.Repository:
			return a.Repository < b.Repository
		case a.Action != b.Action:
			return a.Action < b.Action
		}
		return a.Image < b.Image
	})
	return out
}

func unitChanges(k UnitKey, base, head []string) []Change {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	b, h := in(base), in(head)
	gone, came := map[string][]string{}, map[string][]string{}
	for s := range b {
		if !h[s] {
			gone[Repository(s)] = append(gone[Repository(s)], s)
		}
	}
	for s := range h {
		if !b[s] {
			came[Repository(s)] = append(came[Repository(s)], s)
		}
	}
	repos := map[string]bool{}
	for r := range gone {
		repos[r] = true
	}
	for r := range came {
		repos[r] = true
	}
	var out []Change
	for r := range repos {
		from, to := gone[r], came[r]
		sort.Strings(from)
		sort.Strings(to)
		c := Change{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name, Repository: r}
		for len(from) > 0 && len(to) > 0 {
			c.Action, c.From, c.To, c.Image = Updated, from[0], to[0], to[0]
			out = append(out, c)
			from, to = from[1:], to[1:]
		}
		for _, f := range from {
			c.Action, c.From, c.To, c.Image = Removed, f, "", f
			out = append(out, c)
		}
		for _, t := range to {
			c.Action, c.From, c.To, c.Image = Added, "", t, t
			out = append(out, c)
		}
	}
	return out
}
