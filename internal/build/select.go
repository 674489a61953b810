package build

import (
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// Selection restricts what a command reports to some Kustomizations and
// HelmReleases. Everything is still built — a selected Kustomization may
// need the sources, variables and CRDs others produce, and checks such as
// dependsOn need the whole graph — only the output is restricted.
type Selection struct {
	Kustomizations []result.KustomizationRef
	HelmReleases   []result.KustomizationRef
}

// Empty reports whether nothing is selected (everything is reported).
func (s Selection) Empty() bool { return len(s.Kustomizations)+len(s.HelmReleases) == 0 }

// ParseRef parses NAMESPACE/NAME.
func ParseRef(s string) (result.KustomizationRef, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return result.KustomizationRef{}, fmt.Errorf("%q: want NAMESPACE/NAME", s)
	}
	return result.KustomizationRef{Namespace: ns, Name: name}, nil
}

// UnknownSelectionError names a selected Kustomization or HelmRelease no
// cluster path has.
type UnknownSelectionError struct {
	Kind string // Kustomization or HelmRelease
	Ref  result.KustomizationRef
}

func (e *UnknownSelectionError) Error() string {
	return fmt.Sprintf("%s %s: not found in any cluster path built", e.Kind, e.Ref)
}

// Check reports the first selected name that none of the build lists
// has (a diff passes both revisions' builds: a name in either is known).
func (s Selection) Check(builds ...[]*result.ClusterBuild) error {
	ks, hrs := map[result.KustomizationRef]bool{}, map[result.KustomizationRef]bool{}
	for _, list := range builds {
		for _, cb := range list {
			if cb == nil {
				continue
			}
			for _, kb := range cb.Kustomizations {
				ks[kb.Ref] = true
				for _, rb := range kb.Releases {
					if rb != nil {
						hrs[rb.Ref] = true
					}
				}
			}
		}
	}
	for _, r := range s.Kustomizations {
		if !ks[r] {
			return &UnknownSelectionError{Kind: "Kustomization", Ref: r}
		}
	}
	for _, r := range s.HelmReleases {
		if !hrs[r] {
			return &UnknownSelectionError{Kind: "HelmRelease", Ref: r}
		}
	}
	return nil
}

// Apply returns the builds restricted to the selection (the builds as
// they are when nothing is selected): a selected Kustomization with all
// its objects and HelmReleases; for a selected HelmRelease, the
// Kustomization that produced it with that release only and none of its
// own objects. Findings are kept when they concern what is kept, or no
// Kustomization at all. The builds given are not modified.
func (s Selection) Apply(builds []*result.ClusterBuild) []*result.ClusterBuild {
	if s.Empty() {
		return builds
	}
	out := make([]*result.ClusterBuild, 0, len(builds))
	for _, cb := range builds {
		if cb == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, s.cluster(cb))
	}
	return out
}

func (s Selection) cluster(cb *result.ClusterBuild) *result.ClusterBuild {
	wantKS, wantHR := refSet(s.Kustomizations), refSet(s.HelmReleases)
	c := *cb
	c.Kustomizations, c.Findings = nil, nil
	whole := map[result.KustomizationRef]bool{}
	objects := map[result.ObjectID]bool{}
	for _, kb := range cb.Kustomizations {
		if wantKS[kb.Ref] {
			c.Kustomizations = append(c.Kustomizations, kb)
			whole[kb.Ref] = true
			continue
		}
		var rels []*result.ReleaseBuild
		for _, rb := range kb.Releases {
			if rb != nil && wantHR[rb.Ref] {
				rels = append(rels, rb)
				for _, o := range rb.Objects {
					objects[o.ID()] = true
				}
			}
		}
		if len(rels) == 0 {
			continue
		}
		for _, o := range kb.Objects {
			if IsHelmRelease(o.Object) && wantHR[result.KustomizationRef{Namespace: o.Object.GetNamespace(), Name: o.Object.GetName()}] {
				objects[o.ID()] = true
			}
		}
		k := *kb
		k.Objects, k.Releases, k.Err = nil, rels, nil
		c.Kustomizations = append(c.Kustomizations, &k)
	}
	for _, f := range cb.Findings {
		switch {
		case f.Object != nil && objects[*f.Object],
			f.Kustomization != nil && whole[*f.Kustomization],
			f.Kustomization == nil && f.Object == nil:
			c.Findings = append(c.Findings, f)
		}
	}
	return &c
}

func refSet(refs []result.KustomizationRef) map[result.KustomizationRef]bool {
	m := map[result.KustomizationRef]bool{}
	for _, r := range refs {
		m[r] = true
	}
	return m
}
