package build

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/api/resource"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// reemitFolded gives res the value Flux applies for a folded block scalar
// (">") with more-indented lines. kustomize-controller writes every object
// it built as YAML and parses it back (resMap.AsYaml, then
// ssautil.ReadObjects); kyaml's emitter writes such a scalar as a literal
// block with a blank line before the more-indented ones, so what reaches
// the cluster has one more line break than the file says. slipway reads
// objects without that round trip, so it makes it only for resources
// holding such a scalar: the others come out of it unchanged.
func reemitFolded(res *resource.Resource) error {
	if !hasFoldedBreak(res.YNode()) {
		return nil
	}
	data, err := res.AsYAML()
	if err != nil {
		return fmt.Errorf("writing %s as YAML: %w", res.CurId(), err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("reading %s back: %w", res.CurId(), err)
	}
	return res.UnmarshalJSON(js)
}

// hasFoldedBreak reports whether a node holds a folded scalar whose value
// keeps a line break: only those are changed by kyaml's emitter.
func hasFoldedBreak(n *kyaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == kyaml.ScalarNode {
		return n.Style&kyaml.FoldedStyle != 0 && strings.Contains(n.Value, "\n")
	}
	for _, c := range n.Content {
		if hasFoldedBreak(c) {
			return true
		}
	}
	return false
}
