package validate

import (
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/result"
)

// DependsOnCheck reports dependsOn entries naming no Kustomization of the
// cluster path, and dependency cycles (Flux would wait on them forever).
type DependsOnCheck struct{}

// Name implements Check.
func (DependsOnCheck) Name() string { return "dependsOn" }

// Run implements Check.
func (c DependsOnCheck) Run(cb *result.ClusterBuild) []result.Finding {
	deps := map[result.KustomizationRef][]result.KustomizationRef{}
	byRef := map[result.KustomizationRef]*result.KustomizationBuild{}
	for _, kb := range cb.Kustomizations {
		deps[kb.Ref] = kb.DependsOn
		byRef[kb.Ref] = kb
	}
	g := flux.NewGraph(deps)
	var out []result.Finding
	for _, kb := range cb.Kustomizations {
		for _, d := range g.Missing()[kb.Ref] {
			out = append(out, finding(cb, kb, nil, result.SeverityError, c.Name(),
				fmt.Sprintf("dependsOn %s: no such Kustomization in cluster path %s", d, cb.Path)))
		}
	}
	for _, cyc := range g.Cycles() {
		names := make([]string, 0, len(cyc)+1)
		for _, r := range cyc {
			names = append(names, r.String())
		}
		names = append(names, cyc[0].String())
		out = append(out, finding(cb, byRef[cyc[0]], nil, result.SeverityError, c.Name(),
			"dependency cycle: "+strings.Join(names, " -> ")))
	}
	return out
}
