package build

import (
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/envsubst"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
)

// TestKeepExpressionsAsWritten: an expression whose variable cannot be
// resolved survives substitution exactly as written, operators included,
// while the others are substituted.
func TestKeepExpressionsAsWritten(t *testing.T) {
	vars := map[string]string{"APP": "web"}
	keep := map[string]bool{"DOMAIN": true}
	cases := map[string]string{
		"host: ${APP}.${DOMAIN/./-}":         "host: web.${DOMAIN/./-}",
		"a: ${DOMAIN//./-} b: ${DOMAIN,,}":   "a: ${DOMAIN//./-} b: ${DOMAIN,,}",
		"len: ${#DOMAIN} plain: $DOMAIN":     "len: ${#DOMAIN} plain: $DOMAIN",
		"esc: $${APP} $${DOMAIN} ${DOMAIN}":  "esc: ${APP} ${DOMAIN} ${DOMAIN}",
		"other: ${DOMAINX:=x} ${APP:=dflt}":  "other: x web",
		"cost: $$5 and ${DOMAIN:-fallback}!": "cost: $5 and ${DOMAIN:-fallback}!",
	}
	for in, want := range cases {
		got, err := envsubst.Eval(keepExpressions(in, keep), func(name string) (string, bool) {
			v, ok := vars[name]
			return v, ok
		})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("%q became %q, want %q", in, got, want)
		}
	}
}

// TestUnknownNamesOnly: with a SOPS-encrypted source, only its keys are
// unknown. A later clear source overrides one of them; a name no source
// sets is blanked and reported as Flux would blank it.
func TestUnknownNamesOnly(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "enc", "namespace": "flux-system"},
		"stringData": map[string]any{"DOMAIN": "ENC[AES256_GCM,data:x,type:str]", "REGION": "ENC[AES256_GCM,data:y,type:str]"},
		"sops":       map[string]any{"version": "3.13.3"},
	}}
	clear := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "plain", "namespace": "flux-system"},
		"data": map[string]any{"REGION": "eu-1"},
	}}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"}}
	ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{
		{Kind: "Secret", Name: "enc"}, {Kind: "ConfigMap", Name: "plain"},
	}}
	vars := loadVars(ks, func(kind, _, name string) (*unstructured.Unstructured, bool) {
		if kind == "Secret" && name == "enc" {
			return secret, true
		}
		if kind == "ConfigMap" && name == "plain" {
			return clear, true
		}
		return nil, false
	}, true)
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	rs, err := rf.SliceFromBytes([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  d: ${DOMAIN:=x.org}\n  r: ${REGION}\n  t: a${TYPO}b\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, missing, err := substitute(ks, vars, rs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "TYPO" {
		t.Errorf("reported %v, want [TYPO]", missing)
	}
	data := m["data"].(map[string]any)
	for k, want := range map[string]string{"d": "${DOMAIN:=x.org}", "r": "eu-1", "t": "ab"} {
		if data[k] != want {
			t.Errorf("%s = %q, want %q", k, data[k], want)
		}
	}
}

func TestLineUsing(t *testing.T) {
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${APP}-x\ndata:\n  a: ${APPLE}\n  b: x-${APP_NAME:=y}\n  c: ${APP_NAME}\n---\nkind: Other\ndata: {d: ${LATE}}\n"
	for _, tc := range []struct {
		name  string
		start int
		want  int
	}{
		{"APP", 1, 4},
		{"APPLE", 1, 6},
		{"APP_NAME", 1, 7}, // with an operator: still the variable's line
		{"LATE", 1, 0},     // another document's
		{"LATE", 10, 11},
		{"NOWHERE", 1, 0},
	} {
		if got := lineUsing([]byte(doc), tc.start, tc.name); got != tc.want {
			t.Errorf("lineUsing(%s from %d) = %d, want %d", tc.name, tc.start, got, tc.want)
		}
	}
}
