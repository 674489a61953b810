package compare

import (
	"strings"
	"testing"
)

func configMap(name string, data map[string]any) Object {
	return NewObject(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "apps"},
		"data":     data,
	})
}

func secret(name string, body map[string]any) Object {
	b := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": name, "namespace": "apps"}}
	for k, v := range body {
		b[k] = v
	}
	return NewObject(b)
}

func only(t *testing.T, r Result) Item {
	t.Helper()
	if len(r.Items) != 1 {
		t.Fatalf("want one difference, got %+v", r.Items)
	}
	return r.Items[0]
}

func TestIdenticalObjects(t *testing.T) {
	r := Compare([]Object{configMap("a", map[string]any{"k": "v"})}, []Object{configMap("a", map[string]any{"k": "v"})}, Context{})
	if r.Identical != 1 || len(r.Items) != 0 {
		t.Errorf("got %+v", r)
	}
}

func TestUnexplainedValue(t *testing.T) {
	it := only(t, Compare([]Object{configMap("a", map[string]any{"k": "v\n"})}, []Object{configMap("a", map[string]any{"k": "v"})}, Context{SecretVariables: true}))
	if it.Outcome != Differs || it.Reason != "" {
		t.Fatalf("got %+v", it)
	}
	if want := `.data.k: Flux "v\n", slipway "v"`; len(it.Pair.Fields) != 1 || it.Pair.Fields[0] != want {
		t.Errorf("fields %q, want %q", it.Pair.Fields, want)
	}
}

func TestSecretValuesRedacted(t *testing.T) {
	flux := secret("s", map[string]any{"stringData": map[string]any{"password": "hunter2"}})
	slip := secret("s", map[string]any{"stringData": map[string]any{"password": "**redacted**"}})
	if it := only(t, Compare([]Object{flux}, []Object{slip}, Context{})); it.Reason != ReasonSecretValues {
		t.Errorf("got %+v", it)
	}
	// Another key is a real difference; the value is never printed.
	slip = secret("s", map[string]any{"stringData": map[string]any{"pass": "**redacted**"}})
	it := only(t, Compare([]Object{flux}, []Object{slip}, Context{}))
	if it.Reason != "" || strings.Contains(strings.Join(it.Pair.Fields, " "), "hunter2") {
		t.Errorf("got %+v", it)
	}
}

func TestSOPSLeftEncrypted(t *testing.T) {
	flux := secret("s", map[string]any{"data": map[string]any{"k": "KipTT1BTKio="}})
	slip := secret("s", map[string]any{"data": map[string]any{"k": "ENC[…]"}, "sops": map[string]any{"mac": "ENC[…]"}})
	if it := only(t, Compare([]Object{flux}, []Object{slip}, Context{})); it.Reason != ReasonSOPSLeftEncrypted {
		t.Errorf("got %+v", it)
	}
}

func TestSecretVariables(t *testing.T) {
	flux := []Object{
		configMap("left", map[string]any{"host": "${DOMAIN}"}),
		configMap("blanked", map[string]any{"host": "web..internal"}),
		configMap("kept", map[string]any{"host": "web.example.internal"}),
	}
	slip := []Object{
		configMap("left", map[string]any{"host": "**redacted**"}),
		configMap("blanked", map[string]any{"host": "web.${DOMAIN/./-}.internal"}),
		configMap("kept", map[string]any{"host": "web.other.internal"}),
	}
	r := Compare(flux, slip, Context{SecretVariables: true})
	reasons := map[string]Reason{}
	for _, it := range r.Items {
		reasons[it.ID.Name] = it.Reason
	}
	want := map[string]Reason{"left": ReasonSecretVariables, "blanked": ReasonSecretVariables, "kept": ""}
	for name, reason := range want {
		if reasons[name] != reason {
			t.Errorf("%s: reason %q, want %q", name, reasons[name], reason)
		}
	}
	// Without a Secret among the variables' sources nothing is explained.
	for _, it := range Compare(flux, slip, Context{}).Items {
		if it.Reason != "" {
			t.Errorf("%s explained without secret variables: %s", it.ID, it.Reason)
		}
	}
}

func TestRenamedBySecretVariable(t *testing.T) {
	flux := []Object{configMap("${APP}-settings", map[string]any{"k": "v"})}
	slip := []Object{configMap("web-settings", map[string]any{"k": "v"})}
	if it := only(t, Compare(flux, slip, Context{SecretVariables: true})); it.Reason != ReasonSecretVariables {
		t.Errorf("got %+v", it)
	}
	r := Compare(flux, slip, Context{})
	if len(r.Items) != 2 || r.Items[0].Outcome != Missing || r.Items[1].Outcome != Extra {
		t.Errorf("without secret variables want one missing and one extra, got %+v", r.Items)
	}
}

func TestHelmRenderedExtra(t *testing.T) {
	rendered := configMap("chart", nil)
	rendered.Rendered = true
	r := Compare(nil, []Object{rendered, configMap("stray", nil)}, Context{})
	if len(r.Items) != 2 || r.Items[0].Reason != ReasonHelmRendered || r.Items[1].Reason != "" || r.Items[1].Outcome != Extra {
		t.Errorf("got %+v", r.Items)
	}
}

// TestResourceSetRenderedExtra: objects slipway rendered from a
// ResourceSet are explained extras; others stay unexplained.
func TestResourceSetRenderedExtra(t *testing.T) {
	generated := configMap("tenant", nil)
	generated.GeneratedBy = "ResourceSet/flux-system/tenants"
	r := Compare(nil, []Object{generated, configMap("stray", nil)}, Context{})
	reasons := map[string]Reason{}
	for _, it := range r.Items {
		reasons[it.ID.Name] = it.Reason
	}
	if len(r.Items) != 2 || reasons["tenant"] != ReasonResourceSetRendered || reasons["stray"] != "" {
		t.Errorf("got %+v", r.Items)
	}
}

func TestDuplicatesPairOnce(t *testing.T) {
	a := configMap("a", map[string]any{"k": "v"})
	r := Compare([]Object{a}, []Object{a, a}, Context{})
	if r.Identical != 1 || len(r.Items) != 1 || r.Items[0].Outcome != Extra {
		t.Errorf("got %+v", r)
	}
}

func TestExpectations(t *testing.T) {
	e := &Expectations{Expect: []Expectation{
		{Path: "clusters/dev", Kustomization: "flux-system/apps", Outcome: SlipwayFails, Reason: "needs --root-source"},
		{Path: "clusters/dev", Object: "v1/ConfigMap/apps/a", Outcome: Differs, Reason: "kyaml adds a line"},
		{Path: "clusters/prod", Outcome: Missing, Reason: "never met"},
	}}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	rep := NewReport("repo")
	rep.AddFailure("clusters/dev", "flux-system/apps", SlipwayFails, "boom", e)
	rep.AddFailure("clusters/dev", "flux-system/other", SlipwayFails, "boom", e)
	rep.Add("clusters/dev", "flux-system/apps", Compare([]Object{configMap("a", map[string]any{"k": "1"})}, []Object{configMap("a", map[string]any{"k": "2"})}, Context{}), e)
	rep.Finish(e)
	if rep.Failed != 1 || rep.Unexplained != 0 || rep.Explained["expected: kyaml adds a line"] != 1 || rep.Explained["expected: needs --root-source"] != 1 {
		t.Errorf("got %+v", rep)
	}
	if len(rep.Stale) != 1 || rep.Stale[0].Reason != "never met" || rep.OK() {
		t.Errorf("the unmet expectation must fail the run: %+v", rep.Stale)
	}
	bad := &Expectations{Expect: []Expectation{{Path: "clusters/dev", Outcome: Differs}}}
	if bad.Validate() == nil {
		t.Error("an expectation without a reason was accepted")
	}
}

func TestVariablePattern(t *testing.T) {
	re := variablePattern("v1/Secret/${NS:=apps}/${APP}-volsync")
	if !re.MatchString("v1/Secret/apps/radarr-volsync") || re.MatchString("v1/Secret/apps/radarr-other") {
		t.Errorf("pattern %s", re)
	}
	if variablePattern("plain") != nil {
		t.Error("a name without variables has no pattern")
	}
}

func TestURLCredentialsRedacted(t *testing.T) {
	flux := configMap("cam", map[string]any{"config.yml": "streams:\n  - rtsp://view:{PASSWORD}@porch.home:554/live\n"})
	slip := configMap("cam", map[string]any{"config.yml": "streams:\n  - rtsp://view:**redacted**@porch.home:554/live\n"})
	if it := only(t, Compare([]Object{flux}, []Object{slip}, Context{})); it.Reason != ReasonURLCredentials {
		t.Errorf("got %+v", it)
	}
	slip = configMap("cam", map[string]any{"config.yml": "streams:\n  - rtsp://view:**redacted**@porch.home:554/other\n"})
	if it := only(t, Compare([]Object{flux}, []Object{slip}, Context{})); it.Reason != "" {
		t.Errorf("another difference next to the redaction was explained: %+v", it)
	}
}

// An object written with `labels:` (null) keeps null in the Flux CLI's
// output; slipway, as kustomize-controller, gives it the owner labels.
// Any other label, or another difference, is not explained by that.
func TestNullLabels(t *testing.T) {
	withLabels := func(labels any) Object {
		return NewObject(map[string]any{"apiVersion": "talos.dev/v1alpha1", "kind": "ServiceAccount",
			"metadata": map[string]any{"name": "a", "namespace": "kube-system", "labels": labels}})
	}
	owner := map[string]any{"kustomize.toolkit.fluxcd.io/name": "ks", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
	if it := only(t, Compare([]Object{withLabels(nil)}, []Object{withLabels(owner)}, Context{})); it.Reason != ReasonCLINullLabels {
		t.Errorf("owner labels only: got %+v", it)
	}
	more := map[string]any{"app": "x"}
	for k, v := range owner {
		more[k] = v
	}
	if it := only(t, Compare([]Object{withLabels(nil)}, []Object{withLabels(more)}, Context{})); it.Reason != "" {
		t.Errorf("another label: got %+v", it)
	}
	if it := only(t, Compare([]Object{withLabels(map[string]any{})}, []Object{withLabels(owner)}, Context{})); it.Reason != "" {
		t.Errorf("empty, not null: got %+v", it)
	}
}
