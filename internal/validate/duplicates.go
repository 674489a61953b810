package validate

import (
	"fmt"

	"github.com/slipwayhq/slipway/internal/result"
)

// DuplicateCheck reports objects with the same ID in one cluster path: Flux
// would have two Kustomizations fight over them (or kustomize refuse them).
type DuplicateCheck struct{}

// Name implements Check.
func (DuplicateCheck) Name() string { return "duplicate" }

// Run implements Check.
func (c DuplicateCheck) Run(cb *result.ClusterBuild) []result.Finding {
	type seen struct {
		kb *result.KustomizationBuild
		o  result.Object
	}
	first := map[result.ObjectID]seen{}
	var out []result.Finding
	for _, kb := range cb.Kustomizations {
		for _, o := range kb.Objects {
			id := o.ID()
			if prev, ok := first[id]; ok {
				where := prev.o.Origin.String()
				if where == "" {
					where = "kustomization " + prev.kb.Ref.String()
				}
				out = append(out, finding(cb, kb, &o, result.SeverityError, c.Name(),
					fmt.Sprintf("%s is also defined at %s (kustomization %s)", id, where, prev.kb.Ref)))
				continue
			}
			first[id] = seen{kb: kb, o: o}
		}
	}
	return out
}
