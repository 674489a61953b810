package flux

import (
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// Graph is the dependsOn graph of a cluster path's Kustomizations.
type Graph struct {
	deps map[result.KustomizationRef][]result.KustomizationRef
}

// NewGraph builds a graph from each Kustomization's dependencies.
func NewGraph(deps map[result.KustomizationRef][]result.KustomizationRef) *Graph {
	return &Graph{deps: deps}
}

// Missing returns, per Kustomization, the dependencies that do not exist.
func (g *Graph) Missing() map[result.KustomizationRef][]result.KustomizationRef {
	out := map[result.KustomizationRef][]result.KustomizationRef{}
	for k, ds := range g.deps {
		for _, d := range ds {
			if _, ok := g.deps[d]; !ok {
				out[k] = append(out[k], d)
			}
		}
	}
	return out
}

// Cycles returns each dependency cycle once, as the refs along it, starting
// from its smallest member so the report is stable.
func (g *Graph) Cycles() [][]result.KustomizationRef {
	const (
		white = iota
		grey
		black
	)
	color := map[result.KustomizationRef]int{}
	var stack []result.KustomizationRef
	seen := map[string]bool{}
	var cycles [][]result.KustomizationRef
	var visit func(n result.KustomizationRef)
	visit = func(n result.KustomizationRef) {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range g.deps[n] {
			if _, ok := g.deps[d]; !ok {
				continue
			}
			switch color[d] {
			case white:
				visit(d)
			case grey:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cyc := rotate(append([]result.KustomizationRef(nil), stack[i:]...))
				key := refsKey(cyc)
				if !seen[key] {
					seen[key] = true
					cycles = append(cycles, cyc)
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range g.sorted() {
		if color[n] == white {
			visit(n)
		}
	}
	return cycles
}

// Levels orders Kustomizations so each comes after its dependencies; the
// members of one level do not depend on each other and may run in parallel.
// Members of cycles and their dependants are left out (Cycles reports them).
func (g *Graph) Levels() [][]result.KustomizationRef {
	placed := map[result.KustomizationRef]bool{}
	var levels [][]result.KustomizationRef
	remaining := g.sorted()
	for len(remaining) > 0 {
		var level, rest []result.KustomizationRef
		for _, n := range remaining {
			ready := true
			for _, d := range g.deps[n] {
				if _, exists := g.deps[d]; exists && !placed[d] {
					ready = false
					break
				}
			}
			if ready {
				level = append(level, n)
			} else {
				rest = append(rest, n)
			}
		}
		if len(level) == 0 {
			break
		}
		for _, n := range level {
			placed[n] = true
		}
		levels = append(levels, level)
		remaining = rest
	}
	return levels
}

func (g *Graph) sorted() []result.KustomizationRef {
	out := make([]result.KustomizationRef, 0, len(g.deps))
	for k := range g.deps {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func rotate(c []result.KustomizationRef) []result.KustomizationRef {
	min := 0
	for i := range c {
		if c[i].String() < c[min].String() {
			min = i
		}
	}
	return append(c[min:], c[:min]...)
}

func refsKey(c []result.KustomizationRef) string {
	parts := make([]string, len(c))
	for i, r := range c {
		parts[i] = r.String()
	}
	return strings.Join(parts, ">")
}
