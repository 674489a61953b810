package build

import (
	"encoding/json"
	"math"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"

	"sigs.k8s.io/kustomize/api/resource"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// Flux's substitution takes each resource through text and back:
// res.AsYAML() (kyaml writes the node as YAML, reads that into a map,
// writes it as JSON, which sigs.k8s.io/yaml writes as YAML), envsubst,
// yaml.YAMLToJSON, res.UnmarshalJSON (a map from the JSON, which kyaml
// writes as YAML and parses into a node), and slipway then decodes the
// node into the object. Two of those detours only re-derive what is
// already known; skipping them was a third of the substitution cost of a
// cold validate. The text envsubst sees and the object that comes out
// are the same as Flux's (roundtrip_test.go checks them against kyaml).

// resourceYAML is res.AsYAML(). kyaml's MarshalJSON writes the node as
// YAML and parses it back for a map; for a tree of block collections and
// scalars yaml.v3 writes as they read, decoding the node gives the same
// map. (A folded scalar with a line break gains one on the way: decode
// made those literal, as Flux's round trip does. A null written as
// nothing inside a flow collection comes back as "".) Other trees take
// kyaml's path.
//
// sigs.k8s.io/yaml then reads the JSON with yaml.v2 and writes what it
// read; for maps of plain types and ASCII strings, jsonYAMLValue gives
// what yaml.v2 reads without writing and reading the JSON.
func resourceYAML(res *resource.Resource) ([]byte, error) {
	if !blockTree(res.YNode()) {
		return res.AsYAML()
	}
	m, err := res.Map()
	if err != nil {
		return nil, err
	}
	if v, ok := jsonYAMLValue(m); ok {
		return yamlv2.Marshal(v)
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(js)
}

// jsonYAMLValue is what yaml.v2 reads from json.Marshal(v), for v made
// of maps with string keys, slices, strings of ASCII characters other
// than DEL (JSON escapes the control characters; yaml.v2 refuses some
// others written as they are), booleans, nulls and finite numbers; ok is
// false for anything else. JSON writes a float64 as a plain integer
// ("1000000") when it is one and 1e-6 <= |f| < 1e21, which yaml.v2 reads
// as an int (or uint64); any other number reads back as itself.
func jsonYAMLValue(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			c, ok := jsonYAMLValue(e)
			if !ok || !jsonASCII(k) {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, ok := jsonYAMLValue(e)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	case string:
		return x, jsonASCII(x)
	case nil, bool, int, uint64:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return jsonFloat(x)
	}
	return nil, false
}

func jsonFloat(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false // json.Marshal fails: left to it
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return f, true // written with an exponent
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(i), true
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, true
	}
	return f, true
}

func jsonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// blockTree reports whether n is made of block collections (or empty
// ones: {} and []) and scalars that are not empty unless quoted, with no
// tags written out, anchors or aliases: what yaml.v3 writes and reads
// back as the same values.
func blockTree(n *kyaml.Node) bool {
	if n == nil || n.Anchor != "" || n.Style&kyaml.TaggedStyle != 0 || (n.Style&kyaml.FlowStyle != 0 && len(n.Content) > 0) {
		return false
	}
	switch n.Kind {
	case kyaml.ScalarNode:
		return n.Value != "" || n.Style&(kyaml.SingleQuotedStyle|kyaml.DoubleQuotedStyle) != 0
	case kyaml.MappingNode, kyaml.SequenceNode, kyaml.DocumentNode:
		for _, c := range n.Content {
			if !blockTree(c) {
				return false
			}
		}
		return true
	}
	return false
}

// objectFromJSON is the object toObject gives of a resource after
// res.UnmarshalJSON(js), when the document holds only strings yaml.v3
// writes on one line (ok false otherwise: the caller takes kyaml's path).
// kyaml writes the JSON's map as YAML and parses it: strings, booleans
// and nulls come back as they were; a number is written as
// strconv.FormatFloat(f, 'g', -1, 64) and read back as an integer when
// that text is one (999999, not 1e+06), else as the same float.
func objectFromJSON(js []byte) (map[string]any, bool, error) {
	m := map[string]any{}
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, false, err
	}
	if !oneLineStrings(m) {
		return nil, false, nil
	}
	return yamlNumbers(m).(map[string]any), true, nil
}

// oneLineStrings reports whether every key and string of v is printable
// ASCII: yaml.v3 writes those plain or quoted on one line (or folded at
// a single space), which reads back unchanged. Multi-line and other
// strings go through kyaml itself.
func oneLineStrings(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !printableASCII(k) || !oneLineStrings(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !oneLineStrings(e) {
				return false
			}
		}
	case string:
		return printableASCII(x)
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// yamlNumbers gives the JSON numbers of v (float64) the value yaml.v3
// reads back from what it writes for them, as int64 or float64 (the
// types toObject gives).
func yamlNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = yamlNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = yamlNumbers(e)
		}
		return x
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i
		}
		return x
	}
	return v
}
