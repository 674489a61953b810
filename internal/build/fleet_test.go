package build_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// TestExampleFleetGolden builds every cluster path of the example fleet with
// the age key (and staging without it) and compares the YAML rendering with
// reviewed golden files. Besides the golden comparison it checks the facts
// the fleet's README promises, so a careless -update cannot bless a wrong
// build.
func TestExampleFleetGolden(t *testing.T) {
	golden := filepath.Join(testutil.RepoRoot(t), "internal", "build", "testdata", "golden")
	// Objects per Kustomization, from testdata/fleet/README.md.
	wantCounts := map[string]map[string]int{
		"staging":    {"flux-system": 12, "infra-controllers": 8, "infra-configs": 4, "apps": 17, "platform": 3},
		"production": {"flux-system": 12, "infra-controllers": 8, "infra-configs": 4, "apps": 15, "platform": 3},
	}
	for _, cluster := range []string{"staging", "production"} {
		t.Run(cluster, func(t *testing.T) {
			cb := buildOne(t, fleetDir(t), "clusters/"+cluster, buildConfig{ageKeyFile: ageKey(t)})
			if len(cb.Findings) != 0 {
				t.Errorf("the example fleet builds cleanly with the key; got findings:\n%s", findingsText(cb))
			}
			checkCounts(t, cb, wantCounts[cluster])
			checkFleetSemantics(t, cb, cluster)
			testutil.Golden(t, filepath.Join(golden, "fleet-"+cluster+".yaml"), renderYAML(t, cb))
		})
	}
	t.Run("staging-nokey", func(t *testing.T) {
		cb := buildOne(t, fleetDir(t), "clusters/staging", buildConfig{})
		checkCounts(t, cb, wantCounts["staging"])
		// Without the key: the encrypted Secret is kept (flagged), the
		// variables it would provide are left as they are, nothing is an error.
		if errs := errorFindings(cb); len(errs) != 0 {
			t.Errorf("no error expected without the key; got:\n%s", findingsText(cb))
		}
		txt := findingsText(cb)
		for _, want := range []string{
			"clusters/staging/cluster-secrets.sops.yaml:1 [sops] Secret/flux-system/cluster-secrets: SOPS-encrypted Secret not decrypted",
			"clusters/staging/apps.yaml:1 [substitution] Kustomization/flux-system/apps: variables from Secret/flux-system/cluster-secrets are unknown",
		} {
			if !strings.Contains(txt, want) {
				t.Errorf("findings lack %q; got:\n%s", want, txt)
			}
		}
		sec := mustObject(t, mustKustomization(t, cb, "flux-system", "flux-system"), "Secret", "flux-system", "cluster-secrets")
		if !sec.Encrypted {
			t.Error("cluster-secrets must be marked Encrypted without a key")
		}
		db := mustObject(t, mustKustomization(t, cb, "flux-system", "apps"), "Secret", "podinfo", "podinfo-db")
		if got := str(t, db.Object, "stringData", "DB_PASSWORD"); got != "${DB_PASSWORD}" {
			t.Errorf("without the key ${DB_PASSWORD} must be left in place, got %q", got)
		}
		if got := str(t, db.Object, "stringData", "DB_HOST"); got != "postgres.staging.example.com" {
			t.Errorf("variables from the ConfigMap must still be substituted, got DB_HOST=%q", got)
		}
		testutil.Golden(t, filepath.Join(golden, "fleet-staging-nokey.yaml"), renderYAML(t, cb))
	})
}

func checkCounts(t *testing.T, cb *result.ClusterBuild, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, kb := range cb.Kustomizations {
		if kb.Err != nil {
			t.Errorf("Kustomization %s failed: %v", kb.Ref, kb.Err)
		}
		got[kb.Ref.Name] = len(kb.Objects)
	}
	if len(got) != len(want) {
		t.Errorf("Kustomizations: got %v, want %v", got, want)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("Kustomization %s: %d objects, want %d", name, got[name], n)
		}
	}
	if cb.Kustomizations[0].Ref != (result.KustomizationRef{Namespace: "flux-system", Name: "flux-system"}) {
		t.Errorf("the root must come first, got %s", cb.Kustomizations[0].Ref)
	}
}

// checkFleetSemantics checks what Flux would do to the fleet's tricky spots.
func checkFleetSemantics(t *testing.T, cb *result.ClusterBuild, cluster string) {
	t.Helper()
	apps := mustKustomization(t, cb, "flux-system", "apps")
	dep := mustObject(t, apps, "Deployment", "podinfo", "podinfo")
	replicas := map[string]int64{"staging": 1, "production": 3}[cluster]
	if got := dep.Object.Object["spec"].(map[string]any)["replicas"]; got != replicas {
		t.Errorf("replicas: ${REPLICAS} must become the integer %d, got %#v", replicas, got)
	}
	if dep.Origin != (result.Origin{File: "apps/base/podinfo/deployment.yaml", Line: 1}) {
		t.Errorf("podinfo Deployment origin = %v", dep.Origin)
	}
	if l := dep.Object.GetLabels(); l["kustomize.toolkit.fluxcd.io/name"] != "apps" || l["kustomize.toolkit.fluxcd.io/namespace"] != "flux-system" {
		t.Errorf("owner labels missing: %v", l)
	}
	envName := map[string]string{"staging": "podinfo-env-5hk788448f", "production": "podinfo-env-9hk895thth"}[cluster]
	env := mustObject(t, apps, "ConfigMap", "podinfo", envName)
	level := map[string]string{"staging": "info", "production": "warn"}[cluster]
	if got := str(t, env.Object, "data", "PODINFO_LEVEL"); got != level {
		t.Errorf("${LOG_LEVEL:=info}: got %q, want %q", got, level)
	}
	if got := str(t, env.Object, "data", "PODINFO_UI_MESSAGE"); got != "Hello from "+cluster+" ("+cluster+")" {
		t.Errorf("PODINFO_UI_MESSAGE = %q", got)
	}
	if cluster == "staging" {
		settings := mustObject(t, apps, "ConfigMap", "podinfo", "podinfo-settings")
		if got := str(t, settings.Object, "data", "banner.sh"); got != "#!/bin/sh\necho \"podinfo on staging, user ${ESCAPED}\"\n" {
			t.Errorf("$${ESCAPED} must become ${ESCAPED}: %q", got)
		}
		raw := mustObject(t, apps, "ConfigMap", "podinfo", "podinfo-raw-template")
		if got := str(t, raw.Object, "data", "entrypoint.sh"); !strings.Contains(got, `"hello ${NOT_SUBSTITUTED}"`) || !strings.Contains(got, `"${GREETING}"`) {
			t.Errorf("substitution-disabled ConfigMap was changed: %q", got)
		}
		if raw.Origin != (result.Origin{File: "apps/staging/raw-template.yaml", Line: 3}) {
			t.Errorf("raw-template origin = %v", raw.Origin)
		}
	}
	infra := mustKustomization(t, cb, "flux-system", "infra-configs")
	w := mustObject(t, infra, "Widget", "ingress-system", "ingress-banner")
	if got := w.Object.GetLabels()["example.com/cluster"]; got != cluster {
		t.Errorf("Widget label ${CLUSTER_NAME} = %q", got)
	}
	lr := mustObject(t, infra, "LimitRange", "ingress-system", "default-container-limits")
	if lr.Origin != (result.Origin{File: "infrastructure/configs/limits/limit-range.yaml", Line: 3}) {
		t.Errorf("LimitRange origin = %v", lr.Origin)
	}
	platform := mustKustomization(t, cb, "flux-system", "platform")
	if platform.Source != "ExternalArtifact/flux-system/platform-"+cluster {
		t.Errorf("platform source = %q", platform.Source)
	}
	gw := mustObject(t, platform, "Deployment", "platform", "platform-gateway")
	if gw.Origin.File != "platform/base/deployment.yaml" {
		t.Errorf("platform objects must point at the repository file, got %v", gw.Origin)
	}
	if got := gw.Object.GetLabels()["environment"]; got != cluster {
		t.Errorf("the %s overlay of the artifact was not applied: environment=%q", cluster, got)
	}
	for _, f := range platform.Files {
		if filepath.IsAbs(f) || strings.Contains(f, "slipway-build-") {
			t.Errorf("platform Files must be repository paths, got %q", f)
		}
	}
	root := mustKustomization(t, cb, "flux-system", "flux-system")
	if root.Spec == nil || root.Spec.Spec.Decryption == nil || root.Origin.File != "clusters/"+cluster+"/flux-system/gotk-sync.yaml" {
		t.Errorf("the root must adopt the patched gotk-sync Kustomization; origin %v", root.Origin)
	}
}

// secretValues reads the plaintext test values (and their base64 forms)
// from testdata/keys/README.md.
func secretValues(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "keys", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\|\\s*(staging|production)\\s*\\|\\s*`([A-Z_]+)`\\s*\\|\\s*`([^`]+)`\\s*\\|(.*)\\|\\s*$")
	out := map[string][]string{}
	n := 0
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		cluster, plain, rest := m[1], m[3], m[4]
		forms := []string{plain, base64.StdEncoding.EncodeToString([]byte(plain)), base64.RawStdEncoding.EncodeToString([]byte(plain))}
		if b := regexp.MustCompile("base64 `([^`]+)`").FindStringSubmatch(rest); b != nil {
			forms = append(forms, b[1])
		}
		out[cluster] = append(out[cluster], forms...)
		n++
	}
	if n != 4 {
		t.Fatalf("expected 4 plaintext values in testdata/keys/README.md, parsed %d", n)
	}
	return out
}

// TestNoSecretValueLeaks renders the decrypted fleet every way slipway can
// and checks that no plaintext secret value (nor its base64) survives.
func TestNoSecretValueLeaks(t *testing.T) {
	values := secretValues(t)
	var all []string
	for _, v := range values {
		all = append(all, v...)
	}
	builds := buildRepo(t, fleetDir(t), []string{"clusters/staging", "clusters/production"}, buildConfig{ageKeyFile: ageKey(t)})

	// The check is only meaningful if the build holds the plaintext: the
	// decrypted values reach podinfo-db through substitution.
	for _, cb := range builds {
		cluster := strings.TrimPrefix(cb.Path, "clusters/")
		db := mustObject(t, mustKustomization(t, cb, "flux-system", "apps"), "Secret", "podinfo", "podinfo-db")
		if got := str(t, db.Object, "stringData", "DB_PASSWORD"); got != values[cluster][0] {
			t.Fatalf("%s: podinfo-db DB_PASSWORD = %q, want the decrypted value (test premise)", cluster, got)
		}
	}
	checkNoLeak(t, builds, all)

	// A value substituted from a Secret into a ConfigMap (not redacted as a
	// Secret) must be masked too.
	t.Run("secret-variable-in-configmap", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(fleetDir(t))); err != nil {
			t.Fatal(err)
		}
		writeTree(t, dir, map[string]string{
			"apps/staging/leaky.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaky\n  namespace: podinfo\ndata:\n  token: \"${API_TOKEN}\"\n  url: \"postgres://app:${DB_PASSWORD}@db\"\n",
		})
		kfile := filepath.Join(dir, "apps", "staging", "kustomization.yaml")
		k, err := os.ReadFile(kfile)
		if err != nil {
			t.Fatal(err)
		}
		k = bytes.Replace(k, []byte("  - redis-seed.yaml\n"), []byte("  - redis-seed.yaml\n  - leaky.yaml\n"), 1)
		if err := os.WriteFile(kfile, k, 0o644); err != nil {
			t.Fatal(err)
		}
		cb := buildOne(t, dir, "clusters/staging", buildConfig{ageKeyFile: ageKey(t)})
		leaky := mustObject(t, mustKustomization(t, cb, "flux-system", "apps"), "ConfigMap", "podinfo", "leaky")
		if got := str(t, leaky.Object, "data", "token"); got != "tok-staging-9f8e7d" {
			t.Fatalf("premise: token = %q", got)
		}
		checkNoLeak(t, []*result.ClusterBuild{cb}, values["staging"])
	})
}

func checkNoLeak(t *testing.T, builds []*result.ClusterBuild, values []string) {
	t.Helper()
	outputs := map[string]string{}
	outputs["yaml"] = renderYAML(t, builds...)
	var buf bytes.Buffer
	if err := report.BuildJSON(&buf, builds); err != nil {
		t.Fatal(err)
	}
	outputs["json"] = buf.String()
	buf.Reset()
	if err := report.FindingsText(&buf, builds); err != nil {
		t.Fatal(err)
	}
	outputs["findings-text"] = buf.String()
	buf.Reset()
	if err := report.FindingsJSON(&buf, builds); err != nil {
		t.Fatal(err)
	}
	outputs["findings-json"] = buf.String()
	dir := t.TempDir()
	if err := report.BuildDir(dir, builds); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		outputs["dir:"+strings.TrimPrefix(p, dir)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("BuildDir wrote no file")
	}
	for name, out := range outputs {
		if name == "yaml" || name == "json" {
			if !strings.Contains(out, report.Redacted) {
				t.Errorf("%s output has no redaction marker at all (premise)", name)
			}
		}
		for _, v := range values {
			if strings.Contains(out, v) {
				t.Errorf("%s output leaks secret value %q", name, v)
			}
		}
	}
}
