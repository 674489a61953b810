package validate

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestParsePath(t *testing.T) {
	steps, ok := parsePath(`.spec.template.spec.containers[name="web",port=80].ports[2].x[="a,b]"]`)
	if !ok {
		t.Fatal("not parsed")
	}
	want := []string{"spec", "template", "spec", "containers", "[name=\"web\" port=80]", "ports", "[2]", "x", `[="a,b]"]`}
	var got []string
	for _, s := range steps {
		switch {
		case s.field != "":
			got = append(got, s.field)
		case s.index >= 0:
			got = append(got, "["+string(rune('0'+s.index))+"]")
		case s.value != nil:
			got = append(got, "[="+*s.value+"]")
		default:
			var kv []string
			for _, k := range s.keys {
				kv = append(kv, k.name+"="+k.value)
			}
			got = append(got, "["+strings.Join(kv, " ")+"]")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"", "no schema for x", "a[", `a[name=`, "a b"} {
		if _, ok := parsePath(bad); ok {
			t.Errorf("%q parsed as a path", bad)
		}
	}
	if steps, ok := parsePath("spec.retention"); !ok || len(steps) != 2 {
		t.Errorf("an apimachinery field path: %v %v", steps, ok)
	}
}

func TestMessagePath(t *testing.T) {
	for msg, want := range map[string]string{
		".spec.x: field not declared in schema":           ".spec.x",
		`unknown field "spec.chart.spec.bogus"`:           "spec.chart.spec.bogus",
		`spec.retention: Invalid value: "a": must be int`: "spec.retention",
		"apps/v1beta1 Deployment was removed in 1.16":     "",
		"no schema for example.com/v1 X: no CRD":          "",
	} {
		if got := messagePath(msg); got != want {
			t.Errorf("%q: %q, want %q", msg, got, want)
		}
	}
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selectr:
    app: web
  template:
    spec:
      containers:
        - name: web
          imagePullPolice: Always
          ports:
            - containerPort: "http"
      nodeSelectr: {}
`

// TestTypedErrorsAll: every unknown field is named, sorted, on every
// run; structured-merge-diff alone names one per map, the one Go's map
// order meets first.
func TestTypedErrorsAll(t *testing.T) {
	c, err := NewSchemaCheck("")
	if err != nil {
		t.Fatal(err)
	}
	c.init()
	want := []string{
		`.spec.selectr: field not declared in schema`,
		`.spec.template.spec.containers[name="web"].imagePullPolice: field not declared in schema`,
		`.spec.template.spec.containers[name="web"].ports[containerPort="http",protocol="TCP"].containerPort: expected numeric (int or float), got string`,
		`.spec.template.spec.nodeSelectr: field not declared in schema`,
	}
	for i := 0; i < 20; i++ {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(deployment), &m); err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		got := typedErrors(c.builtins[0].converter, u)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d:\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if _, ok := m["spec"].(map[string]any)["selectr"]; !ok {
			t.Fatal("the object checked was changed")
		}
	}
}

// TestFieldLines: a finding points at the key of the field it is about,
// in the document the object came from; at the object when the field is
// not there as written.
func TestFieldLines(t *testing.T) {
	file := "# two documents\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\n" + deployment
	read := func(rel string) ([]byte, error) { return []byte(file), nil }
	fl := newFieldLines(read)
	at := result.Origin{File: "apps/web.yaml", Line: 7}
	for msg, want := range map[string]int{
		".spec.selectr: field not declared in schema":                                                            12,
		`.spec.template.spec.containers[name="web"].imagePullPolice: field not declared in schema`:               18,
		`.spec.template.spec.containers[name="web"].ports[containerPort="http",protocol="TCP"].containerPort: x`: 20,
		".spec.template.spec.nodeSelectr: field not declared in schema":                                          21,
		".metadata.namespace: added by kustomize":                                                                7,
		"apps/v1beta1 Deployment was removed":                                                                    7,
	} {
		if got := fl.line(at, msg); got != want {
			t.Errorf("%s: line %d, want %d", msg, got, want)
		}
	}
	if got := newFieldLines(nil).line(at, ".spec.selectr: x"); got != 7 {
		t.Errorf("without a reader: line %d", got)
	}
}
