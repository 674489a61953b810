// Package yamlcheck parses repository YAML strictly before any lenient
// parser sees it: syntax errors at the right line, duplicate keys, alias
// bombs. It is kept free of heavy dependencies so it can be fuzzed fast.
package yamlcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	goccyparser "github.com/goccy/go-yaml/parser"
	"go.yaml.in/yaml/v3"
)

// DocInfo locates one YAML document of a file by the object it holds.
type DocInfo struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Line is the 1-based line where the document's content starts.
	Line int
}

// ErrDuplicateKey, ErrAliasBomb, ErrUnknownTag and ErrTooLarge classify
// YAML files slipway refuses.
var (
	ErrDuplicateKey = errors.New("duplicate key")
	ErrUnknownTag   = errors.New("unknown YAML tag")
	ErrAliasBomb    = errors.New("excessive YAML aliasing")
	ErrTooLarge     = errors.New("file too large")
)

// maxAliases bounds alias use per document. Real manifests rarely use
// aliases at all; a "billion laughs" document needs many to do harm, and
// yaml.v3's own expansion-ratio check below catches the rest.
const maxAliases = 100

var lineInErr = regexp.MustCompile(`line (\d+)`)

// Check parses every document of a YAML file strictly and returns what it
// holds. Errors are *LineError values so callers can point at the line.
func Check(data []byte) ([]DocInfo, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []DocInfo
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, syntaxError(data, err)
		}
		if len(node.Content) == 0 {
			continue
		}
		root := node.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document between separators
		}
		aliases := 0
		if err := walk(root, &aliases); err != nil {
			return nil, err
		}
		if aliases > 0 {
			if aliases > maxAliases {
				return nil, &LineError{Line: root.Line, Err: fmt.Errorf("%w: %d aliases in one document", ErrAliasBomb, aliases)}
			}
			// Decoding to values applies yaml.v3's expansion-ratio guard.
			var v any
			if err := node.Decode(&v); err != nil {
				return nil, &LineError{Line: root.Line, Err: fmt.Errorf("%w: %v", ErrAliasBomb, err)}
			}
		}
		docs = append(docs, docInfo(root))
	}
}

// LineError is a YAML problem at a line of a file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

var goccyPos = regexp.MustCompile(`^\[(\d+):\d+\]`)
var v3Prefix = regexp.MustCompile(`^yaml: line \d+: `)

// syntaxError reports a YAML syntax error at the line of the defect.
// yaml.v3 names the line where the enclosing block starts (0-based for
// parser errors), which points reviewers at the wrong place; goccy/go-yaml's
// parser reports the offending token, so it is asked for the line.
func syntaxError(data []byte, err error) error {
	msg := v3Prefix.ReplaceAllString(err.Error(), "")
	// goccy's parser needs memory in the square of the nesting depth (2.6
	// GB for 40,000 nested flow sequences): a document yaml.v3 refused for
	// its depth is reported at yaml.v3's line without asking it.
	if !strings.Contains(msg, "exceeded max depth") {
		if _, perr := goccyparser.ParseBytes(data, 0); perr != nil {
			if m := goccyPos.FindStringSubmatch(perr.Error()); m != nil {
				line, _ := strconv.Atoi(m[1])
				return &LineError{Line: line, Err: fmt.Errorf("YAML syntax error: %s", msg)}
			}
		}
	}
	le := yamlLineError(err).(*LineError)
	le.Err = fmt.Errorf("YAML syntax error: %s", msg)
	return le
}

func yamlLineError(err error) error {
	msg := err.Error()
	line := 0
	if m := lineInErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	return &LineError{Line: line, Err: err}
}

// coreTags are the tags whose meaning survives kustomize and the JSON sent
// to the API server; "!" only forces a plain string.
var coreTags = map[string]bool{
	"!": true, "!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!map": true, "!!seq": true, "!!binary": true, "!!timestamp": true, "!!merge": true,
}

func walk(n *yaml.Node, aliases *int) error {
	// Any other tag (!vault, !!python/object) is dropped on the way to the
	// cluster without a word, as kustomize-controller drops it: the value
	// is sent as it is written, which is never what the author meant.
	if n.Style&yaml.TaggedStyle != 0 && !coreTags[n.ShortTag()] {
		return &LineError{Line: n.Line, Err: fmt.Errorf("%w %s: Kubernetes has no such type; kustomize would drop the tag and send the plain value", ErrUnknownTag, n.ShortTag())}
	}
	switch n.Kind {
	case yaml.AliasNode:
		*aliases++
		return nil
	case yaml.MappingNode:
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Value != "<<" {
				if first, dup := seen[k.Value]; dup {
					return &LineError{Line: k.Line, Err: fmt.Errorf("%w %q (first defined at line %d)", ErrDuplicateKey, k.Value, first)}
				}
				seen[k.Value] = k.Line
			}
		}
	}
	for _, c := range n.Content {
		if err := walk(c, aliases); err != nil {
			return err
		}
	}
	return nil
}

func docInfo(root *yaml.Node) DocInfo {
	d := DocInfo{Line: root.Line}
	if root.Kind != yaml.MappingNode {
		return d
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "apiVersion":
			d.APIVersion = v.Value
		case "kind":
			d.Kind = v.Value
		case "metadata":
			if v.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				switch v.Content[j].Value {
				case "name":
					d.Name = v.Content[j+1].Value
				case "namespace":
					d.Namespace = v.Content[j+1].Value
				}
			}
		}
	}
	return d
}

// DocumentAt returns the YAML document of a file that starts at line, in
// the file's own key order.
func DocumentAt(data []byte, line int) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no document at line %d", line)
		}
		if err != nil {
			return nil, syntaxError(data, err)
		}
		if len(node.Content) > 0 && node.Content[0].Line == line {
			return yaml.Marshal(node.Content[0])
		}
	}
}
