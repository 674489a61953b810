package build

import (
	"reflect"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
)

func mustUnstructured(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSecretMakers: which Secret each maker promises, with which keys.
func TestSecretMakers(t *testing.T) {
	namespaces := func() map[string]map[string]string {
		return map[string]map[string]string{"media": {"tier": "apps"}, "infra": {"tier": "system"}, "web": {"tier": "apps"}}
	}
	cases := []struct {
		name, doc string
		want      []promise
	}{
		{"default target name, listed keys", `
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: db, namespace: apps}
spec:
  data: [{secretKey: B}, {secretKey: A}]`,
			[]promise{{namespace: "apps", name: "db", by: "ExternalSecret apps/db", keys: []string{"A", "B"}}}},
		{"target name, dataFrom", `
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: cf, namespace: apps}
spec:
  target: {name: cf-secret}
  dataFrom: [{extract: {key: cf}}]`,
			[]promise{{namespace: "apps", name: "cf-secret", by: "ExternalSecret apps/cf", open: true}}},
		{"template replaces the keys", `
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: t, namespace: apps}
spec:
  target: {template: {data: {URL: "postgres://{{ .pw }}"}}}
  data: [{secretKey: pw}]
  dataFrom: [{extract: {key: x}}]`,
			[]promise{{namespace: "apps", name: "t", by: "ExternalSecret apps/t", keys: []string{"URL"}}}},
		{"creationPolicy None makes no Secret", `
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: n, namespace: apps}
spec:
  target: {creationPolicy: None}`, nil},
		{"ClusterExternalSecret: named and selected namespaces", `
apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata: {name: pull}
spec:
  externalSecretName: registry
  namespaces: [infra]
  namespaceSelectors: [{matchLabels: {tier: apps}}]
  externalSecretSpec:
    data: [{secretKey: TOKEN}]`,
			[]promise{
				{namespace: "infra", name: "registry", by: "ClusterExternalSecret pull", keys: []string{"TOKEN"}},
				{namespace: "media", name: "registry", by: "ClusterExternalSecret pull", keys: []string{"TOKEN"}},
				{namespace: "web", name: "registry", by: "ClusterExternalSecret pull", keys: []string{"TOKEN"}},
			}},
		{"SealedSecret: its own name", `
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: s, namespace: apps}
spec:
  encryptedData: {PW: AgB}
  template: {metadata: {name: other}, data: {DSN: "x"}}`,
			[]promise{{namespace: "apps", name: "s", by: "SealedSecret apps/s", keys: []string{"DSN", "PW"}}}},
		{"a Secret is no maker", `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: apps}`, nil},
	}
	for _, c := range cases {
		got := promisesOf(result.Object{Object: mustUnstructured(t, c.doc)}, namespaces)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// TestPromisedOpenKeepsOnlyUnresolved: with a Secret of unknown keys
// (dataFrom), a name no source sets is kept as written instead of blanked
// and reported, defaults still apply, known values are substituted; with
// listed keys, a name no source sets is blanked and reported as Flux
// would.
func TestPromisedOpenKeepsOnlyUnresolved(t *testing.T) {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"}}
	ks.Spec.PostBuild = &kustomizev1.PostBuild{
		Substitute:     map[string]string{"APP": "web"},
		SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "Secret", Name: "made"}},
	}
	none := func(string, string, string) (*unstructured.Unstructured, bool) { return nil, false }
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  a: ${APP}\n  b: ${TOKEN,,}\n  c: ${PORT:=80}\n  d: ${KEY}\n"
	for _, c := range []struct {
		open    bool
		want    map[string]any
		missing []string
	}{
		{true, map[string]any{"a": "web", "b": "${TOKEN,,}", "c": int64(80), "d": "${KEY}"}, nil},
		// Blanked, as Flux does: "b: " is YAML null.
		{false, map[string]any{"a": "web", "b": nil, "c": int64(80), "d": "${KEY}"}, []string{"TOKEN"}},
	} {
		vars := loadVarsPromised(ks, none, func(ns, name string) (promise, bool) {
			return promise{namespace: ns, name: name, keys: []string{"KEY"}, open: c.open}, name == "made"
		}, true)
		if len(vars.missing) > 0 || len(vars.promised) != 1 {
			t.Fatalf("open=%v: missing %v, promised %v", c.open, vars.missing, vars.promised)
		}
		rs, err := provider.NewDefaultDepProvider().GetResourceFactory().SliceFromBytes([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		m, missing, err := substitute(ks, vars, rs[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) != len(c.missing) || (len(missing) > 0 && !reflect.DeepEqual(missing, c.missing)) {
			t.Errorf("open=%v: reported %v, want %v", c.open, missing, c.missing)
		}
		got := m["data"]
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("open=%v: data %v, want %v", c.open, got, c.want)
		}
	}
}
