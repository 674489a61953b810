package build_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// fidelityRepo returns testdata/fidelity/<name>/repo: repositories written
// in the patterns real Flux repositories use, where slipway once built
// something other than what Flux applies.
func fidelityRepo(t *testing.T, name string) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", name, "repo")
}

// TestSourceIgnoreReincludesDirectory: GitRepository spec.ignore "/*" then
// "!/kubernetes" keeps kubernetes/** (source-controller matches each file
// from the source root), and a later "*.sample.yaml" still hides samples.
func TestSourceIgnoreReincludesDirectory(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "source-ignore"), "kubernetes/clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	kb := mustKustomization(t, cb, "flux-system", "apps")
	mustObject(t, kb, "Namespace", "", "demo")
	mustObject(t, kb, "ConfigMap", "demo", "web")
	if o := object(kb, "ConfigMap", "demo", "web-sample"); o != nil {
		t.Errorf("the ignored %s was built", o.Origin)
	}
	if len(kb.Objects) != 2 {
		t.Errorf("built %d objects, want 2", len(kb.Objects))
	}
	// The root is built before its GitRepository is known: it is rebuilt
	// with the GitRepository's spec.ignore.
	root := mustKustomization(t, cb, "flux-system", "flux-system")
	if o := object(root, "ConfigMap", "flux-system", "cluster-sample"); o != nil {
		t.Errorf("the root built the ignored %s", o.Origin)
	}
}

// TestEncryptedSecretSubstituted: an encrypted Secret that cannot be
// decrypted is still substituted as a whole document (only its values are
// opaque), so ${APP} in its name gives one Secret per app; and an
// expression over a variable whose Secret is encrypted stays as written.
func TestEncryptedSecretSubstituted(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "sops-substitution"), "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	for _, app := range []string{"radarr", "sonarr"} {
		kb := mustKustomization(t, cb, "flux-system", app)
		s := mustObject(t, kb, "Secret", "media", app+"-volsync-secret")
		if !s.Encrypted {
			t.Errorf("%s: the Secret is not marked encrypted", app)
		}
		if _, ok := s.Object.Object["sops"]; !ok {
			t.Errorf("%s: substitution lost the sops metadata", app)
		}
		cm := mustObject(t, kb, "ConfigMap", "media", app+"-routes")
		if got, want := str(t, cm.Object, "data", "host"), app+".${DOMAIN/./-}.internal"; got != want {
			t.Errorf("%s: host = %q, want %q", app, got, want)
		}
		if got, want := str(t, cm.Object, "data", "fallback"), "${DOMAIN:=example.com}"; got != want {
			t.Errorf("%s: fallback = %q, want %q", app, got, want)
		}
	}
	info := 0
	for _, f := range cb.Findings {
		if f.Check == "sops" && f.Object != nil && f.Object.Name == "${APP}-volsync-secret" {
			t.Errorf("a finding names the unsubstituted Secret: %s", f.Message)
		}
		if f.Severity == "info" {
			info++
		}
	}
	if info == 0 {
		t.Error("no info finding says the Secrets were not decrypted")
	}
}

// TestSubstituteFromExternalAndOwnOutput: substituteFrom finds objects
// where Flux does. Objects outside Git come from --external-objects (as for
// HelmRelease valuesFrom); an object the Kustomization applies itself is
// used as built, with a warning that a fresh cluster fails first; so is
// one built by a Kustomization it does not depend on. One declared by the
// Kustomization that applies the object is in time: no warning.
func TestSubstituteFromExternalAndOwnOutput(t *testing.T) {
	dir := fidelityRepo(t, "substitute-from")
	external := filepath.Join(filepath.Dir(dir), "external.yaml")

	cb := buildOne(t, dir, "clusters/dev", buildConfig{})
	if kb := mustKustomization(t, cb, "flux-system", "apps"); kb.Err == nil || !strings.Contains(kb.Err.Error(), "ConfigMap/flux-system/platform-settings not found") {
		t.Errorf("without the external object: err = %v", kb.Err)
	}

	cb = buildOne(t, dir, "clusters/dev", buildConfig{external: []string{external}})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	cluster := mustKustomization(t, cb, "flux-system", "cluster")
	mustObject(t, cluster, "Namespace", "", "apps-dev")
	apps := mustKustomization(t, cb, "flux-system", "apps")
	cm := mustObject(t, apps, "ConfigMap", "apps-dev", "app")
	if got := str(t, cm.Object, "data", "registry"); got != "registry.example.internal" {
		t.Errorf("registry = %q, want the external ConfigMap's value", got)
	}
	web := mustObject(t, mustKustomization(t, cb, "flux-system", "web"), "ConfigMap", "default", "web")
	if got := str(t, web.Object, "data", "size"); got != "large" {
		t.Errorf("size = %q, want large", got)
	}

	warned := map[string]string{}
	for _, f := range cb.Findings {
		if f.Severity == result.SeverityWarning && f.Check == "substitution" && f.Kustomization != nil {
			warned[f.Kustomization.Name] = f.Origin.String() + " " + f.Message
		}
	}
	if w := warned["cluster"]; !strings.Contains(w, "clusters/dev/cluster.yaml:3") || !strings.Contains(w, "own output") {
		t.Errorf("cluster: warning %q, want one at its file:line about its own output", w)
	}
	if w := warned["web"]; !strings.Contains(w, "clusters/dev/web.yaml:3") || !strings.Contains(w, "does not depend on") {
		t.Errorf("web: warning %q, want one about ordering", w)
	}
	if w, ok := warned["apps"]; ok {
		t.Errorf("apps is declared with its settings, yet warned: %s", w)
	}
}

// TestFoldedScalarAsFluxApplies: a folded scalar with a more-indented line
// reaches the cluster with the blank line kyaml's emitter adds, exactly
// once, with or without substitution.
func TestFoldedScalarAsFluxApplies(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "folded-scalar"), "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	for name, want := range map[string]string{
		"plain":       "serve\n\n  --port 8080\n--verbose",
		"substituted": "hello\n\n  --port 8080\n--verbose",
	} {
		cm := mustObject(t, mustKustomization(t, cb, "flux-system", name), "ConfigMap", "default", name)
		if got := str(t, cm.Object, "data", "args"); got != want {
			t.Errorf("%s: args = %q, want %q", name, got, want)
		}
	}
}

// TestEmptyBuildsAreFindings: a Kustomization whose path holds YAML but
// builds nothing is a warning at its file:line; a cluster path that builds
// nothing at all is an error. Flux would prune everything in both cases.
func TestEmptyBuildsAreFindings(t *testing.T) {
	builds := buildRepo(t, fidelityRepo(t, "empty"), []string{"clusters/dev", "clusters/empty"}, buildConfig{})
	dev, empty := builds[0], builds[1]
	var warned bool
	for _, f := range dev.Findings {
		if f.Severity == result.SeverityError {
			t.Errorf("clusters/dev: unexpected error %s", f.Message)
		}
		if f.Severity == result.SeverityWarning && f.Check == "empty" && f.Kustomization.Name == "apps" {
			warned = f.Origin.String() == "clusters/dev/apps.yaml:1" && strings.Contains(f.Message, "builds 0 objects")
		}
	}
	if !warned {
		t.Errorf("no empty-build warning at clusters/dev/apps.yaml:1:\n%s", findingsText(dev))
	}
	errs := errorFindings(empty)
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "builds no object") || errs[0].Origin.File != "clusters/empty" {
		t.Errorf("clusters/empty: want one error saying it builds no object, got:\n%s", findingsText(empty))
	}
}

// TestNullLabelsGetOwnerLabels: an object written with an empty
// "labels:" (null) gets the owner labels, as kustomize-controller gives
// them (it sets them on the decoded object); the Flux CLI's build output
// keeps the null, which the fidelity harness explains.
func TestNullLabelsGetOwnerLabels(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "null-labels"), "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	kb := mustKustomization(t, cb, "flux-system", "agent")
	for kind, name := range map[string]string{"ServiceAccount": "agent-access", "ConfigMap": "agent-settings"} {
		o := mustObject(t, kb, kind, "agent", name)
		l := o.Object.GetLabels()
		if l["kustomize.toolkit.fluxcd.io/name"] != "agent" || l["kustomize.toolkit.fluxcd.io/namespace"] != "flux-system" || len(l) != 2 {
			t.Errorf("%s labels %v, want the two owner labels", kind, l)
		}
	}
}

// TestResourceSetCopyFrom: the ConfigMaps and Secrets a ResourceSet
// generates with fluxcd.controlplane.io/copyFrom get the data of the
// object named (Flux Operator copies it), so a generated Kustomization
// substitutes the tenant copy's variables instead of blanking them; a
// source a later Kustomization builds is waited for. A source found
// nowhere fails the ResourceSet (the operator applies nothing of it)
// until --external-objects gives it.
func TestResourceSetCopyFrom(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "resourceset-copyfrom"), "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	root := mustKustomization(t, cb, "flux-system", "flux-system")
	for _, tenant := range []string{"team-a", "team-b"} {
		cm := mustObject(t, root, "ConfigMap", tenant, "runtime-info")
		if got := str(t, cm.Object, "data", "REGION"); got != "eu-west-1" {
			t.Errorf("%s: copied REGION = %q", tenant, got)
		}
		s := mustObject(t, root, "Secret", tenant, "registry-auth")
		if got := str(t, s.Object, "type"); got != "kubernetes.io/dockerconfigjson" {
			t.Errorf("%s: copied type = %q", tenant, got)
		}
		if got := str(t, s.Object, "stringData", ".dockerconfigjson"); !strings.Contains(got, "registry.example.org") {
			t.Errorf("%s: copied value %q", tenant, got)
		}
		app := mustObject(t, mustKustomization(t, cb, tenant, "app"), "ConfigMap", tenant, "app-settings")
		if got, want := str(t, app.Object, "data", "endpoint"), "https://app.eu-west-1.example.org"; got != want {
			t.Errorf("%s: endpoint = %q, want %q", tenant, got, want)
		}
	}

	repo := fidelityRepo(t, "resourceset-copyfrom")
	cb = buildOne(t, repo, "clusters/staging", buildConfig{})
	errs := errorFindings(cb)
	if len(errs) != 1 || errs[0].Check != "resourceset" || errs[0].Origin.File != "clusters/staging/tenants.yaml" ||
		!strings.Contains(errs[0].Message, "copies its data from Secret flux-system/git-auth") {
		t.Fatalf("want one error at the ResourceSet:\n%s", findingsText(cb))
	}
	if o := object(mustKustomization(t, cb, "flux-system", "flux-system"), "Namespace", "", "team-c"); o != nil {
		t.Errorf("a ResourceSet the operator cannot render generated %s", o.Origin)
	}
	cb = buildOne(t, repo, "clusters/staging", buildConfig{external: []string{filepath.Join(filepath.Dir(repo), "external.yaml")}})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("with the external Secret:\n%s", findingsText(cb))
	}
	s := mustObject(t, mustKustomization(t, cb, "flux-system", "flux-system"), "Secret", "team-c", "git-auth")
	if got := str(t, s.Object, "type"); got != "Opaque" {
		t.Errorf("type %q, want Opaque (the source has none, the template neither)", got)
	}
}

// TestRetiredFluxVersions: Flux objects of versions Flux v2.9's CRDs no
// longer serve are reported at their lines: v1beta2 GitRepository and
// Alert as warnings (a cluster on an older Flux still applies them), a
// v1beta2 Kustomization as an error (slipway does not build it); a served
// one (Provider v1beta3, Kustomization v1) passes and builds.
func TestRetiredFluxVersions(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "retired-versions"), "clusters/dev", buildConfig{})
	want := map[string]int{"warning GitRepository/legacy-charts": 4, "warning Alert/on-call": 15, "error Kustomization/legacy": 36}
	for _, f := range cb.Findings {
		if f.Severity == result.SeverityInfo {
			continue
		}
		if f.Object == nil || f.Check != "flux" {
			t.Errorf("unexpected finding: %s", f.Message)
			continue
		}
		key := string(f.Severity) + " " + f.Object.Kind + "/" + f.Object.Name
		if line, ok := want[key]; !ok || f.Origin.Line != line || !strings.Contains(f.Message, "v1beta2") {
			t.Errorf("unexpected %s at %s: %s", f.Severity, f.Origin, f.Message)
		}
		delete(want, key)
	}
	if len(want) > 0 {
		t.Errorf("no error for %v:\n%s", want, findingsText(cb))
	}
	mustObject(t, mustKustomization(t, cb, "flux-system", "current"), "ConfigMap", "default", "current")
}
