package build

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// cachedJSONSamples are objects whose decoding must not depend on the
// reader: every kind of number, string and nesting JSON has.
var cachedJSONSamples = []string{
	`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"b","labels":{"x":"y"}},"data":{"k":"v"}}`,
	`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":3,"big":9223372036854775807,"bigger":9223372036854775808,"neg":-9223372036854775808,"negzero":-0,"f":1.5,"one":1.0,"exp":1e3,"Exp":2E-2,"float":-0.25e+1,"eighteen":123456789012345678,"nineteen":1234567890123456789}}`,
	`{"kind":"K","apiVersion":"v1","s":"tab\tnewline\nquote\"back\\slash\/ \u003chtml\u003e \u0026 \ud83d\ude00 \ud800 lone","u":"héllo wörld 日本"}`,
	"{\"kind\":\"K\",\"apiVersion\":\"v1\",\"bad\":\"\xff\xfe invalid utf-8\"}",
	` { "kind" : "K" , "apiVersion" : "v1" , "a" : [ 1 , "x" , null , true , false , { } , [ ] , [ [ 2 ] ] ] , "e" : { } }` + "\n",
	`{"kind":"K","apiVersion":"v1","dup":1,"dup":"second"}`,
	`{"kind":"K","apiVersion":"v1","n":null,"t":true,"f":false,"arr":[],"obj":{}}`,
	// Not objects the cache holds: errors either way.
	`{"apiVersion":"v1","metadata":{}}`,
	`{"kind":"","apiVersion":"v1"}`,
	`{"kind":"K","apiVersion":"a/b/c"}`,
	`{"kind":7}`,
	`{"kind":"K","x":01}`,
	`{"kind":"K","x":1.}`,
	`{"kind":"K","x":-}`,
	`{"kind":"K","x":1e400}`,
	`{"kind":"K","x":"unterminated}`,
	"{\"kind\":\"K\",\"x\":\"control\x01char\"}",
	`{"kind":"K",}`,
	`{"kind":"K"} trailing`,
	`["not","an","object"]`,
	`null`,
	``,
	`{"kind":"K","x":tru}`,
	`{"kind":"K","x":[1,]}`,
	`{"kind":"K" "x":1}`,
	`{"kind":"K","apiVersion":"v1","deep":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
}

func sameDecoding(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := decodeObject(data)
	got, gotErr := decodeCached(data)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("%q: error %v, want %v", data, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got.Object, want.Object) {
		t.Fatalf("%q:\ngot  %#v\nwant %#v", data, got.Object, want.Object)
	}
}

func TestDecodeCachedAsUnstructured(t *testing.T) {
	for _, s := range cachedJSONSamples {
		sameDecoding(t, []byte(s))
	}
	// And as the cache writes them.
	for _, s := range cachedJSONSamples {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		sameDecoding(t, data)
	}
}

func FuzzDecodeCached(f *testing.F) {
	for _, s := range cachedJSONSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameDecoding(t, data) })
}
