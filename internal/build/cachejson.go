package build

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// decodeCached decodes one object of the build cache. Objects there were
// written by encoding/json, so a plain reader that takes no detours (no
// validation pass before decoding, no reflection) decodes them in half
// the time of unstructured's decoder. It gives exactly what that decoder gives —
// integers as int64, other numbers as float64, strings unescaped — and
// hands anything it does not read plainly (an escaped or non-UTF-8
// string, malformed JSON, an object without a kind) to it: the result is
// the same either way, only the time differs.
func decodeCached(data []byte) (*unstructured.Unstructured, error) {
	d := cacheDecoder{data: data}
	if m, ok := d.document(); ok {
		u := &unstructured.Unstructured{Object: m}
		// As unstructured's decoder: an object whose kind it cannot read
		// is an error (its apiVersion parsed too).
		if u.GroupVersionKind().Kind != "" {
			return u, nil
		}
	}
	return decodeObject(data)
}

// maxDepth is encoding/json's nesting limit: deeper is an error there.
const maxDepth = 10000

type cacheDecoder struct {
	data  []byte
	pos   int
	depth int
}

func (d *cacheDecoder) document() (map[string]any, bool) {
	d.space()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, false
	}
	m, ok := d.object()
	if !ok {
		return nil, false
	}
	d.space()
	return m, d.pos == len(d.data)
}

func (d *cacheDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *cacheDecoder) value() (any, bool) {
	d.space()
	if d.pos >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		m, ok := d.object()
		return m, ok
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

func (d *cacheDecoder) literal(s string) bool {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(s)) {
		return false
	}
	d.pos += len(s)
	return true
}

func (d *cacheDecoder) object() (map[string]any, bool) {
	if d.depth++; d.depth > maxDepth {
		return nil, false
	}
	defer func() { d.depth-- }()
	d.pos++ // {
	m := map[string]any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, true
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		d.space()
		if d.pos >= len(d.data) {
			return nil, false
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *cacheDecoder) array() (any, bool) {
	if d.depth++; d.depth > maxDepth {
		return nil, false
	}
	defer func() { d.depth-- }()
	d.pos++ // [
	a := make([]any, 0)
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.space()
		if d.pos >= len(d.data) {
			return nil, false
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return a, true
		default:
			return nil, false
		}
	}
}

// str reads a string: plain ones directly, escaped or non-UTF-8 ones
// through encoding/json (whose unescaping unstructured's decoder shares).
func (d *cacheDecoder) str() (string, bool) {
	start := d.pos + 1
	ascii := true
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			raw := d.data[start:i]
			if !ascii && !utf8.Valid(raw) {
				return d.escaped(start - 1)
			}
			d.pos = i + 1
			return string(raw), true
		case c == '\\':
			return d.escaped(start - 1)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

func (d *cacheDecoder) escaped(quote int) (string, bool) {
	i := quote + 1
	for ; i < len(d.data); i++ {
		if d.data[i] == '\\' {
			i++
			continue
		}
		if d.data[i] == '"' {
			break
		}
	}
	if i >= len(d.data) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(d.data[quote:i+1], &s); err != nil {
		return "", false
	}
	d.pos = i + 1
	return s, true
}

// number reads a number as unstructured's decoder does: without a '.',
// an int64 when it fits, else a float64.
func (d *cacheDecoder) number() (any, bool) {
	start := d.pos
	i := d.pos
	if d.data[i] == '-' {
		i++
	}
	digits := i
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	intDigits := i - digits
	dot, exp := false, false
	if i < len(d.data) && d.data[i] == '.' {
		dot = true
		i++
		n := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		if i == n {
			return nil, false
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		exp = true
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		n := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		if i == n {
			return nil, false
		}
	}
	d.pos = i
	lit := d.data[start:i]
	if !dot && !exp && intDigits <= 18 {
		var n int64
		for _, c := range lit[digits-start:] {
			n = n*10 + int64(c-'0')
		}
		if start != digits {
			n = -n
		}
		return n, true
	}
	s := string(lit)
	if !dot {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return f, true
}
