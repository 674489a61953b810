package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
)

// Node classes of the Kustomization graph. Outside a pull request they
// are outcomes (ok, failed, blocked, skipped); on a pull request, with a
// diff, what the change does to each node (changed, unchanged, removed),
// a failure staying a failure.
const graphClassDefs = `  classDef ok fill:#dafbe1,stroke:#1a7f37
  classDef failed fill:#ffebe9,stroke:#cf222e
  classDef blocked fill:#fff8c5,stroke:#9a6700
  classDef skipped fill:#eaeef2,stroke:#57606a
  classDef changed fill:#ddf4ff,stroke:#0969da,stroke-width:3px
  classDef unchanged fill:#ffffff,stroke:#8c959f
  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3
`

const (
	outcomeLegend = "Green: built (and deployed); red: failed; yellow: blocked by a failed dependency; grey: suspended."
	changeLegend  = "Blue, thick border: changed by this pull request; white: unchanged; red: failed; dashed red: removed by this pull request; grey: suspended."
	shapeLegend   = " Rounded: HelmReleases, dotted to the Kustomization holding them. Arrows go from a dependency to what depends on it."
)

// graphNodes are the node ids of a cluster path's graph.
type graphNodes struct {
	ks, rel map[result.KustomizationRef]string
}

func (g graphNodes) node(ref result.KustomizationRef) (string, bool) {
	if id, ok := g.rel[ref]; ok {
		return id, true
	}
	id, ok := g.ks[ref]
	return id, ok
}

// KustomizationGraph is the Mermaid picture of a cluster path, for a
// check run's text or a job summary: its Kustomizations and HelmReleases,
// their dependsOn, classed by outcome (the build's findings, the deploy's
// statuses; deploy may be nil) or, given the path's diff (a pull request),
// by what the change does to them. "" without a build.
func KustomizationGraph(cb *result.ClusterBuild, cd *result.ClusterDeploy, d *diff.ClusterDiff) string {
	if cb == nil || len(cb.Kustomizations) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("#### Kustomizations and HelmReleases\n\n```mermaid\ngraph LR\n")
	nodes := writeGraphNodes(&b, cb)
	writeGraphEdges(&b, cb, nodes)
	b.WriteString(graphClassDefs)
	classes, legend := graphClasses(cb, cd, d, nodes)
	if d != nil {
		writeRemovedNodes(&b, d, nodes, classes)
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[c], ","), c)
	}
	b.WriteString("```\n\n" + legend + shapeLegend + "\n\n")
	return b.String()
}

func writeGraphNodes(b *strings.Builder, cb *result.ClusterBuild) graphNodes {
	nodes := graphNodes{ks: map[result.KustomizationRef]string{}, rel: map[result.KustomizationRef]string{}}
	for i, kb := range cb.Kustomizations {
		nodes.ks[kb.Ref] = fmt.Sprintf("k%d", i)
		fmt.Fprintf(b, "  k%d[\"%s\"]\n", i, mermaidLabel(kb.Ref.String()))
	}
	// HelmReleases are rounded nodes hanging off the Kustomization that
	// holds them; their dependsOn may name either kind.
	n := 0
	for _, kb := range cb.Kustomizations {
		for _, rb := range kb.Releases {
			id := fmt.Sprintf("h%d", n)
			n++
			nodes.rel[rb.Ref] = id
			fmt.Fprintf(b, "  %s([\"HelmRelease %s\"])\n", id, mermaidLabel(rb.Ref.String()))
			fmt.Fprintf(b, "  %s -.- %s\n", nodes.ks[kb.Ref], id)
		}
	}
	return nodes
}

func writeGraphEdges(b *strings.Builder, cb *result.ClusterBuild, nodes graphNodes) {
	for _, kb := range cb.Kustomizations {
		for _, dep := range kb.DependsOn {
			if id, ok := nodes.ks[dep]; ok {
				fmt.Fprintf(b, "  %s --> %s\n", id, nodes.ks[kb.Ref])
			}
		}
		for _, rb := range kb.Releases {
			for _, dep := range rb.DependsOn {
				if id, ok := nodes.node(dep); ok {
					fmt.Fprintf(b, "  %s --> %s\n", id, nodes.rel[rb.Ref])
				}
			}
		}
	}
}

// graphClasses lists the node ids of each class, and the legend that
// explains them.
func graphClasses(cb *result.ClusterBuild, cd *result.ClusterDeploy, d *diff.ClusterDiff, nodes graphNodes) (map[string][]string, string) {
	out := outcomes(cb, cd)
	rout := releaseOutcomes(cb, cd)
	ksClass := func(ref result.KustomizationRef) string { return out[ref] }
	relClass := func(ks, ref result.KustomizationRef) string {
		if c := rout[ref]; c != "" {
			return c
		}
		return out[ks]
	}
	legend := outcomeLegend
	if d != nil {
		legend = changeLegend
		ksChange, relChange := changedUnits(d)
		ksClass = func(ref result.KustomizationRef) string { return changeClass(out[ref], ksChange[ref]) }
		relClass = func(ks, ref result.KustomizationRef) string {
			c := rout[ref]
			if c == "" && out[ks] != "ok" {
				c = out[ks]
			}
			return changeClass(c, relChange[ref])
		}
	}
	classes := map[string][]string{}
	for _, kb := range cb.Kustomizations {
		c := ksClass(kb.Ref)
		classes[c] = append(classes[c], nodes.ks[kb.Ref])
	}
	for _, kb := range cb.Kustomizations {
		for _, rb := range kb.Releases {
			c := relClass(kb.Ref, rb.Ref)
			classes[c] = append(classes[c], nodes.rel[rb.Ref])
		}
	}
	return classes, legend
}

// changedUnits are the diff's actions of the Kustomizations and
// HelmReleases that differ.
func changedUnits(d *diff.ClusterDiff) (ks, rel map[result.KustomizationRef]diff.Action) {
	ks, rel = map[result.KustomizationRef]diff.Action{}, map[result.KustomizationRef]diff.Action{}
	for _, kd := range d.Kustomizations {
		if kd.Action != diff.Unchanged {
			ks[kd.Ref] = kd.Action
		}
		for _, rd := range kd.Releases {
			if rd.Action != diff.Unchanged {
				rel[rd.Ref] = rd.Action
			}
		}
	}
	return ks, rel
}

// changeClass: a failure (of the build or of a dependency) shows as such,
// a suspended node stays grey unless the change touches it; otherwise a
// node is changed or unchanged.
func changeClass(outcome string, a diff.Action) string {
	switch {
	case outcome == "failed" || outcome == "blocked" || a == diff.Failed:
		return "failed"
	case a != "":
		return "changed"
	case outcome == "skipped":
		return "skipped"
	}
	return "unchanged"
}

// writeRemovedNodes adds the Kustomizations and HelmReleases the change
// removes, which the head's build no longer has.
func writeRemovedNodes(b *strings.Builder, d *diff.ClusterDiff, nodes graphNodes, classes map[string][]string) {
	n := 0
	for _, kd := range d.Kustomizations {
		ksID, inHead := nodes.ks[kd.Ref]
		if kd.Action == diff.Removed && !inHead {
			ksID = fmt.Sprintf("x%d", n)
			n++
			fmt.Fprintf(b, "  %s[\"%s (removed)\"]\n", ksID, mermaidLabel(kd.Ref.String()))
			classes["removed"] = append(classes["removed"], ksID)
		}
		for _, rd := range kd.Releases {
			if _, ok := nodes.rel[rd.Ref]; ok || rd.Action != diff.Removed {
				continue
			}
			id := fmt.Sprintf("x%d", n)
			n++
			fmt.Fprintf(b, "  %s([\"HelmRelease %s (removed)\"])\n", id, mermaidLabel(rd.Ref.String()))
			if ksID != "" {
				fmt.Fprintf(b, "  %s -.- %s\n", ksID, id)
			}
			classes["removed"] = append(classes["removed"], id)
		}
	}
}
