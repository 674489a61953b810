package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slipwayhq/slipway/internal/result"
)

// step is one element of a path into an object, as the schema libraries
// print them: a field (".spec"), a list index ("[2]"), a list item chosen
// by its key fields (`[name="web",protocol="TCP"]`) or a set item ("[=x]").
type step struct {
	field string
	index int // -1 unless an index step
	keys  []keyField
	value *string // JSON text of a set item
}

// keyField is one key of a list item selector; value is JSON text.
type keyField struct{ name, value string }

// parsePath reads a path such as `.spec.template.spec.containers[name="c"].image`
// (structured-merge-diff) or `spec.ports[0].port` (apimachinery field
// paths). ok is false for anything else, such as a message that is not
// about a field.
func parsePath(p string) (steps []step, ok bool) {
	p = strings.TrimPrefix(p, ".")
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '[':
			s, rest, ok := parseBracket(p[1:])
			if !ok {
				return nil, false
			}
			steps, p = append(steps, s), rest
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			name := p[:end]
			if name == "" || strings.ContainsAny(name, " \t\"]=") {
				return nil, false
			}
			steps, p = append(steps, step{field: name, index: -1}), p[end:]
		}
	}
	return steps, len(steps) > 0
}

// parseBracket reads the inside of [...] and what follows it.
func parseBracket(p string) (step, string, bool) {
	if end := strings.IndexByte(p, ']'); end > 0 {
		if n, err := strconv.Atoi(p[:end]); err == nil {
			return step{index: n}, p[end+1:], true
		}
	}
	if strings.HasPrefix(p, "=") {
		v, rest, ok := jsonValue(p[1:])
		if !ok || !strings.HasPrefix(rest, "]") {
			return step{}, "", false
		}
		return step{index: -1, value: &v}, rest[1:], true
	}
	s := step{index: -1}
	for {
		eq := strings.IndexByte(p, '=')
		if eq <= 0 {
			return step{}, "", false
		}
		name := p[:eq]
		v, rest, ok := jsonValue(p[eq+1:])
		if !ok {
			return step{}, "", false
		}
		s.keys = append(s.keys, keyField{name: name, value: v})
		switch {
		case strings.HasPrefix(rest, ","):
			p = rest[1:]
		case strings.HasPrefix(rest, "]"):
			return s, rest[1:], true
		default:
			return step{}, "", false
		}
	}
}

// jsonValue reads one JSON value at the start of p: a quoted string (with
// escapes), or a bare number, boolean or null up to ',' or ']'.
func jsonValue(p string) (string, string, bool) {
	if strings.HasPrefix(p, `"`) {
		dec := json.NewDecoder(strings.NewReader(p))
		var s string
		if err := dec.Decode(&s); err != nil {
			return "", "", false
		}
		n := int(dec.InputOffset())
		return p[:n], p[n:], true
	}
	end := strings.IndexAny(p, ",]")
	if end <= 0 {
		return "", "", false
	}
	return p[:end], p[end:], true
}

// matches says whether v, a decoded JSON-like value, is the JSON text want.
func matches(v any, want string) bool {
	b, err := json.Marshal(v)
	return err == nil && string(b) == want
}

// deleteField removes the field the path ends in from obj; false when the
// path does not lead to one.
func deleteField(obj map[string]any, steps []step) bool {
	if len(steps) == 0 || steps[len(steps)-1].field == "" {
		return false
	}
	var cur any = obj
	for _, s := range steps[:len(steps)-1] {
		if cur = child(cur, s); cur == nil {
			return false
		}
	}
	m, ok := cur.(map[string]any)
	last := steps[len(steps)-1].field
	if _, has := m[last]; !ok || !has {
		return false
	}
	delete(m, last)
	return true
}

// child follows one step in a decoded object; nil when absent.
func child(cur any, s step) any {
	switch c := cur.(type) {
	case map[string]any:
		if s.field != "" {
			return c[s.field]
		}
	case []any:
		for i, item := range c {
			if itemMatches(s, i, item) {
				return item
			}
		}
	}
	return nil
}

func itemMatches(s step, i int, item any) bool {
	switch {
	case s.index >= 0:
		return i == s.index
	case s.value != nil:
		return matches(item, *s.value)
	case len(s.keys) > 0:
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		for _, k := range s.keys {
			if !matches(m[k.name], k.value) {
				return false
			}
		}
		return true
	}
	return false
}

// maxDocuments bounds the documents of a file read for field lines; the
// build refused files with more long before.
const maxDocuments = 10000

// documentRoots parses a YAML file into the root node of each document.
// The file was checked strictly when the build read it (aliases, size),
// so this parse is bounded.
func documentRoots(data []byte) []*yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for len(out) < maxDocuments {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if len(doc.Content) > 0 {
			out = append(out, doc.Content[0])
		}
	}
	return out
}

// nodeLine is the line of the field the path names inside root (the
// line of its key), or 0 when the document does not hold it as written
// (a patch or a transformer added it).
func nodeLine(root *yaml.Node, steps []step) int {
	cur, line := root, 0
	for _, s := range steps {
		cur, line = nodeChild(cur, s)
		if cur == nil {
			return 0
		}
	}
	return line
}

// nodeChild follows one step from n, returning the node and the line
// that names it (a field's key, a list item's first line).
func nodeChild(n *yaml.Node, s step) (*yaml.Node, int) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil, 0
	}
	switch {
	case n.Kind == yaml.MappingNode && s.field != "":
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == s.field {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case n.Kind == yaml.SequenceNode && s.field == "":
		for i, item := range n.Content {
			if nodeItemMatches(s, i, item) {
				return item, item.Line
			}
		}
	}
	return nil, 0
}

func nodeItemMatches(s step, i int, item *yaml.Node) bool {
	if s.index >= 0 || s.value != nil || len(s.keys) == 0 {
		var v any
		if s.index < 0 && item.Decode(&v) != nil {
			return false
		}
		return itemMatches(s, i, v)
	}
	if item.Kind != yaml.MappingNode {
		return false
	}
	// A key field may be absent as written: the schema defaults it (a
	// port's protocol is "TCP"). The ones written must all match.
	found := 0
	for _, k := range s.keys {
		child, _ := nodeChild(item, step{field: k.name, index: -1})
		if child == nil {
			continue
		}
		if child.Kind != yaml.ScalarNode || !scalarIs(child, k.value) {
			return false
		}
		found++
	}
	return found > 0
}

// scalarIs compares a scalar node with a JSON value: as written, or as
// the string it is.
func scalarIs(n *yaml.Node, want string) bool {
	if n.Value == want {
		return true
	}
	var s string
	return json.Unmarshal([]byte(want), &s) == nil && n.Value == s
}

// fieldLines finds the line of the field a schema message is about, in
// the file an object came from, so a finding points at the misspelled
// field rather than at the object's first line.
type fieldLines struct {
	read  func(rel string) ([]byte, error)
	files map[string][]*yaml.Node
}

func newFieldLines(read func(rel string) ([]byte, error)) *fieldLines {
	return &fieldLines{read: read, files: map[string][]*yaml.Node{}}
}

// line returns the line of the field msg names in the object at origin,
// or origin's own line when the field is not found as written there.
func (fl *fieldLines) line(origin result.Origin, msg string) int {
	steps, ok := parsePath(messagePath(msg))
	if !ok || fl.read == nil || origin.File == "" || origin.Line == 0 {
		return origin.Line
	}
	roots, seen := fl.files[origin.File]
	if !seen {
		if data, err := fl.read(origin.File); err == nil {
			roots = documentRoots(data)
		}
		fl.files[origin.File] = roots
	}
	for _, root := range roots {
		if root.Line == origin.Line {
			if l := nodeLine(root, steps); l > 0 {
				return l
			}
		}
	}
	return origin.Line
}

// messagePath is the field path a schema message starts with
// (".spec.x: field not declared in schema", "spec.retention: Invalid
// value: …") or names (`unknown field "spec.x"`); "" for other messages.
func messagePath(msg string) string {
	if rest, ok := strings.CutPrefix(msg, `unknown field "`); ok {
		p, _, _ := strings.Cut(rest, `"`)
		return p
	}
	p, _, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(p, " \t") {
		return ""
	}
	return p
}
