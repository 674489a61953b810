package images

import (
	"strings"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
)

// Unit kinds: what deploys an image.
const (
	KindKustomization = "Kustomization"
	KindHelmRelease   = "HelmRelease"
)

// Unit is the images one Kustomization (its own objects) or one
// HelmRelease (its rendered chart) deploys.
type Unit struct {
	// Kind is Kustomization or HelmRelease.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Kustomization is the Kustomization that produced a HelmRelease.
	Kustomization string `json:"kustomization,omitempty"`
	// Images are sorted and deduplicated.
	Images []string `json:"images"`
	// Error says why the unit did not build: its images are unknown.
	// Reason classifies it (build.ReasonOf) and Err is the value.
	Error  string        `json:"error,omitempty"`
	Reason result.Reason `json:"reason,omitempty"`
	Err    error         `json:"-"`
}

// Ref is "namespace/name".
func (u Unit) Ref() string { return u.Namespace + "/" + u.Name }

// Cluster is the images of one cluster path.
type Cluster struct {
	Path string `json:"path"`
	// Images are those of every unit, sorted and deduplicated.
	Images []string `json:"images"`
	Units  []Unit   `json:"units"`
}

// List is the images of a build, per cluster path and unit. Images, the
// union, is what a GitHub Actions matrix takes:
// fromJSON(steps.images.outputs.json).images.
type List struct {
	Images   []string  `json:"images"`
	Clusters []Cluster `json:"clusters"`
}

// FromBuilds lists the images of cluster builds, in their order, units in
// build order (a Kustomization, then its HelmReleases). Units that deploy
// no image are left out; failed ones are kept with their error.
func FromBuilds(builds []*result.ClusterBuild) *List {
	all := map[string]bool{}
	l := &List{Images: []string{}, Clusters: []Cluster{}}
	for _, cb := range builds {
		if cb == nil {
			continue
		}
		c := Cluster{Path: cb.Path, Units: []Unit{}}
		set := map[string]bool{}
		for _, kb := range cb.Kustomizations {
			u := Unit{Kind: KindKustomization, Namespace: kb.Ref.Namespace, Name: kb.Ref.Name}
			if kb.Err != nil {
				u.Err, u.Error, u.Reason = kb.Err, kb.Err.Error(), build.ReasonOf(kb.Err, result.ReasonBuildFailed)
			}
			u.Images = ofObjects(kb.Objects)
			c.Units = appendUnit(c.Units, u)
			for _, rb := range kb.Releases {
				if rb == nil {
					continue
				}
				ru := Unit{Kind: KindHelmRelease, Namespace: rb.Ref.Namespace, Name: rb.Ref.Name, Kustomization: kb.Ref.String()}
				if rb.Err != nil {
					ru.Err, ru.Error, ru.Reason = rb.Err, rb.Err.Error(), build.ReasonOf(rb.Err, result.ReasonRenderFailed)
				}
				ru.Images = ofObjects(rb.Objects)
				c.Units = appendUnit(c.Units, ru)
			}
		}
		for _, u := range c.Units {
			for _, img := range u.Images {
				set[img], all[img] = true, true
			}
		}
		c.Images = orEmpty(sorted(set))
		l.Clusters = append(l.Clusters, c)
	}
	l.Images = orEmpty(sorted(all))
	return l
}

// appendUnit keeps units with images or an error.
func appendUnit(us []Unit, u Unit) []Unit {
	if len(u.Images) == 0 && u.Error == "" {
		return us
	}
	u.Images = orEmpty(u.Images)
	return append(us, u)
}

func ofObjects(objs []result.Object) []string {
	set := map[string]bool{}
	for _, o := range objs {
		for _, img := range Of(o.Object) {
			set[img] = true
		}
	}
	return sorted(set)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Repository is an image reference without its tag and digest:
// "ghcr.io/org/app:1.2@sha256:…" → "ghcr.io/org/app". A colon before the
// last slash is a registry port, not a tag.
func Repository(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}
