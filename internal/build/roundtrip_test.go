package build

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/yaml"
)

// roundTripDocs are documents whose values stress YAML's scalar rules:
// strings that read as other types, numbers at the edges of yaml.v3's
// integer/float writing, multi-line and non-ASCII strings, folded
// scalars, keys that are YAML keywords.
var roundTripDocs = []string{
	`apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: ns, labels: {"on": "yes", "1": "2"}}
data:
  bools: "true"
  yes: "yes"
  nul: "null"
  tilde: "~"
  empty: ""
  exp: "1e3"
  hex: "0x1F"
  oct: "0o17"
  date: "2001-12-14"
  ts: "2001-12-14T21:59:43.10-05:00"
  lead: " lead"
  trail: "trail "
  colon: "a: b"
  dash: "- x"
  hash: "#c"
  sq: "'q'"
  dq: '"dq"'
  flow: "{x}"
  seq: "[y]"
  anchor: "&a"
  alias: "*b"
  tag: "!t"
  pct: "%p"
  at: "@x"
  tick: "` + "`x" + `"
  merge: "<<"
  long: "` + strings.Repeat("word ", 40) + `end"
  longspaces: "` + strings.Repeat("two  spaces ", 12) + `"
  multi: |
    line one
      indented
    ${X}
  trailing: |+
    kept

  folded: >-
    folded text
      more indented
    back
  unicode: "héllo ✓"
  tab: "a\tb"
  cr: "a\rb"
  nel: "a\u0085b"
  ls: "a\u2028b"
`,
	`apiVersion: apps/v1
kind: Deployment
metadata: {name: d, annotations: {"null": y, "true": z, "~": w}}
spec:
  replicas: 3
  numbers: [0, -0, 1, -5, 999999, 1000000, 1234567, 0.5, 123456.5, 1e21, 1e-7, 0.0001, 9007199254740993, 1.5e300, 3.0, -2.50, 12e3, 0x10, 0o17, 1_000]
  floats: {a: 1.0, b: 100000.0, c: 1000000.0, d: -0.0}
  nested: [[1, "1"], {k: [null, true, false]}]
  nulls: {a: null, b: ~, c: }
  strs: ["1", "1.5", "-", "--", "-1-", ".5", "+1", "0b101", ".inf", ".nan"]
`,
	`apiVersion: v1
kind: ConfigMap
metadata:
  name: block
  annotations: {}
  finalizers: []
  labels:
    empty:
    quoted: ""
    single: ''
data:
  list:
  -
  - ""
  - ~
  - null
  - 1
  - 1.0
  - 1e6
  - -0.0
  - 0o17
  - 0x1f
  - +12
  - true
  - True
  - FALSE
  - yes
  - 2001-12-14
  - 2001-12-14T21:59:43.10-05:00
  - !!str 12
  - !!float 3
  - "multi
    line"
  - plain
    folded line
  - "tab\there"
  ? complex key
  : v
  "": emptykey
  date: 2002-12-14
  ts: 2001-12-14 21:59:43.10 -5
  spaced:    x
`,
	`apiVersion: v1
kind: ConfigMap
metadata:
  name: anchors
data:
  anchored: &a {x: 1}
  aliased: *a
  merged:
    <<: {m: 1}
    n: 2
`,
}

// blockDocs are the stress documents in block style, which resourceYAML
// takes without kyaml's detour.
func blockDocs(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range roundTripDocs[:3] {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		y, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(y))
	}
	return out
}

// TestResourceYAMLIsAsYAML: the text substitution works on is kustomize's
// own AsYAML, byte for byte, once decode has re-emitted folded scalars.
func TestResourceYAMLIsAsYAML(t *testing.T) {
	docs := append(roundTripDocs, blockDocs(t)...)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		// Block style, control characters escaped in JSON.
		y, err := yaml.JSONToYAML([]byte(randomJSONDoc(rng, `\n`, `\t`, `\u0001`, `\u007f`, "é", `\u0085`)))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(y))
	}
	direct := 0
	for _, r := range roundTripResources(t, docs...) {
		if err := reemitFolded(r); err != nil {
			t.Fatal(err)
		}
		if m, err := r.Map(); err == nil && blockTree(r.YNode()) {
			if _, ok := jsonYAMLValue(m); ok {
				direct++
			}
		}
		want, wantErr := r.AsYAML()
		got, err := resourceYAML(r)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("resourceYAML error %v, AsYAML's %v", err, wantErr)
		}
		if string(got) != string(want) {
			t.Errorf("resourceYAML differs from AsYAML:\n--- got\n%s\n--- want\n%s", got, want)
		}
	}
	if direct < 150 {
		t.Errorf("only %d documents written without kyaml's detour: the test checks too little", direct)
	}
}

// TestObjectFromJSONIsKyamls: the object made from substitution's JSON
// equals what kyaml's UnmarshalJSON and toObject make of it, for the
// stress documents and for random ones; documents it does not take are
// left to kyaml.
func TestObjectFromJSONIsKyamls(t *testing.T) {
	var docs [][]byte
	for _, r := range roundTripResources(t, roundTripDocs...) {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(y)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, js)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		docs = append(docs, []byte(randomJSONDoc(rng)))
	}
	direct := 0
	for _, js := range docs {
		got, ok, err := objectFromJSON(js)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if !ok {
			continue
		}
		direct++
		want := kyamlObject(t, js)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("objectFromJSON(%s)\n got %#v\nwant %#v", js, got, want)
		}
	}
	if direct < 250 {
		t.Errorf("only %d of %d documents taken directly: the test checks too little", direct, len(docs))
	}
	// Strings yaml.v3 may write over several lines go through kyaml.
	for _, s := range []string{"a\nb", "a\tb", "héllo", "a\rb"} {
		js := fmt.Sprintf(`{"kind":"K","s":%q}`, s)
		if _, ok, _ := objectFromJSON([]byte(js)); ok {
			t.Errorf("%q taken directly", s)
		}
	}
}

func roundTripResources(t *testing.T, docs ...string) []*resource.Resource {
	t.Helper()
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	var out []*resource.Resource
	for _, d := range docs {
		rs, err := rf.SliceFromBytes([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rs...)
	}
	return out
}

// kyamlObject is what substitution made of js before: kyaml's
// UnmarshalJSON into the resource, then toObject.
func kyamlObject(t *testing.T, js []byte) map[string]any {
	t.Helper()
	rs, err := provider.NewDefaultDepProvider().GetResourceFactory().SliceFromBytes([]byte("kind: K\nmetadata: {name: x}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs[0].UnmarshalJSON(js); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	u, err := toObject(rs[0])
	if err != nil {
		t.Fatal(err)
	}
	return u.Object
}

// randomJSONDoc is a JSON object of random nesting, printable strings
// built from YAML's indicator characters and keywords, and numbers of
// every magnitude.
func randomJSONDoc(rng *rand.Rand, extra ...string) string {
	var b strings.Builder
	var value func(depth int)
	pieces := append(extra, "a", "Z", "0", "1", "-", ".", ":", " ", "#", "'", `\"`, "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "?", "~", "e", "x", "_", "true", "null", "yes", "on", "<<", "${X}", "0x", "1e3", "2001-12-14")
	str := func() {
		b.WriteByte('"')
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if rng.IntN(10) == 0 {
			b.WriteString(strings.Repeat("long words ", 10))
		}
		b.WriteByte('"')
	}
	value = func(depth int) {
		switch k := rng.IntN(8); {
		case k == 0 && depth < 4:
			b.WriteByte('{')
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteByte(',')
				}
				str()
				b.WriteByte(':')
				value(depth + 1)
			}
			b.WriteByte('}')
		case k == 1 && depth < 4:
			b.WriteByte('[')
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteByte(',')
				}
				value(depth + 1)
			}
			b.WriteByte(']')
		case k == 2:
			str()
		case k == 3:
			b.WriteString([]string{"true", "false", "null"}[rng.IntN(3)])
		case k == 4:
			fmt.Fprintf(&b, "%d", rng.Int64N(1<<uint(rng.IntN(62)+1))-rng.Int64N(1000))
		case k == 5:
			fmt.Fprintf(&b, "%g", math.Pow(10, float64(rng.IntN(40)-20))*rng.Float64())
		case k == 6:
			fmt.Fprintf(&b, "%d.0", rng.IntN(6_000_000)-3_000_000)
		default:
			fmt.Fprintf(&b, "%v", float64(rng.IntN(2_000_000))/4)
		}
	}
	b.WriteString(`{"kind":"K","metadata":{"name":"x"},"v":`)
	value(0)
	b.WriteByte('}')
	return b.String()
}
