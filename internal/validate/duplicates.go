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
	first := map[result.ObjectID]item{}
	var out []result.Finding
	for _, it := range items(cb) {
		id := it.o.ID()
		if prev, ok := first[id]; ok {
			out = append(out, it.finding(cb, result.SeverityError, c.Name(),
				fmt.Sprintf("%s is also defined at %s (kustomization %s)", id, prev.where(), prev.kb.Ref)))
			continue
		}
		first[id] = it
	}
	return out
}
