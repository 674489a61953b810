package build_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

// ksVars is a Kustomization of ./app with a postBuild block.
func ksVars(name, postBuild string) string {
	return ksGit(name, "./app") + "  postBuild:\n" + postBuild
}

// TestSubstituteFromOrderAndOptional checks postBuild variable resolution
// as kustomize-controller's LoadVariables does it: substituteFrom entries
// in order, later ones overriding earlier ones, then the inline substitute
// map over all of them; an optional missing source is skipped, a required
// one fails the Kustomization.
func TestSubstituteFromOrderAndOptional(t *testing.T) {
	dir := t.TempDir()
	b64 := base64.StdEncoding.EncodeToString
	writeTree(t, dir, map[string]string{
		"clusters/test/vars.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
  namespace: flux-system
data:
  A: cm-a
  B: cm-b
  C: cm-c
---
apiVersion: v1
kind: Secret
metadata:
  name: secret-vars
  namespace: flux-system
type: Opaque
data:
  B: ` + b64([]byte("secret-b")) + `
  D: ` + b64([]byte("secret-d")) + `
stringData:
  C: secret-c
`,
		"clusters/test/ks.yaml": ksVars("cm-then-secret", `    substitute:
      C: inline-c
    substituteFrom:
      - kind: ConfigMap
        name: vars
      - kind: Secret
        name: secret-vars
      - kind: ConfigMap
        name: not-there
        optional: true
`) + ksVars("secret-then-cm", `    substituteFrom:
      - kind: Secret
        name: secret-vars
      - kind: ConfigMap
        name: vars
`) + ksVars("required-missing", `    substituteFrom:
      - kind: ConfigMap
        name: vars
      - kind: Secret
        name: absent-secret
`) + ksVars("from-sibling", `    substituteFrom:
      - kind: ConfigMap
        name: sibling-vars
`) + ksGit("sibling", "./sibling"),
		"sibling/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sibling-vars\n  namespace: flux-system\ndata:\n  A: sibling-a\n  B: sibling-b\n  C: sibling-c\n  D: sibling-d\n",
		"app/out.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: out
  namespace: default
data:
  a: "${A}"
  b: "${B}"
  c: "${C}"
  d: "${D:=default-d}"
`,
	})
	cb := buildOne(t, dir, "clusters/test", buildConfig{})
	txt := findingsText(cb)
	out := func(ks string) map[string]string {
		t.Helper()
		o := mustObject(t, mustKustomization(t, cb, "flux-system", ks), "ConfigMap", "default", "out")
		m := map[string]string{}
		for _, k := range []string{"a", "b", "c", "d"} {
			m[k] = str(t, o.Object, "data", k)
		}
		return m
	}
	check := func(ks string, want map[string]string) {
		t.Helper()
		got := out(ks)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: ${%s} = %q, want %q", ks, strings.ToUpper(k), got[k], v)
			}
		}
	}

	t.Run("later-source-wins-inline-overrides", func(t *testing.T) {
		// A only in the ConfigMap, B from the Secret's data (base64), C
		// inline over both, D from the Secret.
		check("cm-then-secret", map[string]string{"a": "cm-a", "b": "secret-b", "c": "inline-c", "d": "secret-d"})
	})
	t.Run("order-matters-not-kind", func(t *testing.T) {
		check("secret-then-cm", map[string]string{"a": "cm-a", "b": "cm-b", "c": "cm-c", "d": "secret-d"})
	})
	t.Run("optional-missing-is-fine", func(t *testing.T) {
		for _, f := range cb.Findings {
			if f.Kustomization != nil && f.Kustomization.Name == "cm-then-secret" {
				t.Errorf("unexpected finding for cm-then-secret: %s", f.Message)
			}
		}
	})
	t.Run("required-missing-is-an-error", func(t *testing.T) {
		var found []result.Finding
		for _, f := range errorFindings(cb) {
			if f.Kustomization != nil && f.Kustomization.Name == "required-missing" {
				found = append(found, f)
			}
		}
		// kustomize-controller fails the whole Kustomization: a build error.
		if len(found) != 1 || !strings.Contains(found[0].Message, "Secret/flux-system/absent-secret") || found[0].Check != "build" {
			t.Fatalf("want one build error naming Secret/flux-system/absent-secret, got:\n%s", txt)
		}
		if found[0].Origin.File != "clusters/test/ks.yaml" || found[0].Origin.Line == 0 {
			t.Errorf("the finding must point at the Kustomization, got %v", found[0].Origin)
		}
		if strings.Contains(txt, "not-there") {
			t.Errorf("the optional source must not be reported:\n%s", txt)
		}
	})
	t.Run("source-from-another-kustomization", func(t *testing.T) {
		// sibling-vars is built by another Kustomization of the same wave:
		// the variables must be waited for, not reported missing.
		check("from-sibling", map[string]string{"a": "sibling-a", "b": "sibling-b", "c": "sibling-c", "d": "sibling-d"})
		for _, f := range errorFindings(cb) {
			if strings.Contains(f.Message, "sibling-vars") {
				t.Errorf("sibling-vars reported although another Kustomization builds it:\n%s", txt)
			}
		}
		// Without dependsOn, Flux may reconcile from-sibling first on a
		// fresh cluster: that is a warning.
		if !strings.Contains(txt, "sibling-vars is built by Kustomization flux-system/sibling, which this one does not depend on") {
			t.Errorf("no ordering warning for sibling-vars:\n%s", txt)
		}
	})
	t.Run("secret-values-masked", func(t *testing.T) {
		y := renderYAML(t, cb)
		for _, v := range []string{"secret-b", "secret-c", "secret-d"} {
			if strings.Contains(y, v) {
				t.Errorf("value %q substituted from a Secret is not masked in the output", v)
			}
		}
		if !strings.Contains(y, "a: cm-a") {
			t.Errorf("ConfigMap values must not be masked")
		}
	})
}

// TestEncryptedSecretWithoutDecryptionSpec: Flux applies a SOPS-encrypted
// Secret as it is when its Kustomization has no spec.decryption; slipway
// must flag it, with or without a key, and not when decryption is set.
func TestEncryptedSecretWithoutDecryptionSpec(t *testing.T) {
	enc, err := os.ReadFile(filepath.Join(fleetDir(t), "clusters", "staging", "cluster-secrets.sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"clusters/test/ks.yaml": ksGit("plain", "./secrets") + ksGit("decrypting", "./secrets") +
			"  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n",
		"secrets/cluster-secrets.sops.yaml": string(enc),
	})
	const msg = "no spec.decryption"
	for _, key := range []string{"", ageKey(t)} {
		name := map[bool]string{true: "without-key", false: "with-key"}[key == ""]
		t.Run(name, func(t *testing.T) {
			cb := buildOne(t, dir, "clusters/test", buildConfig{ageKeyFile: key})
			var plain, decrypting []result.Finding
			for _, f := range cb.Findings {
				if f.Check != "sops" || f.Kustomization == nil {
					continue
				}
				if strings.Contains(f.Message, msg) {
					switch f.Kustomization.Name {
					case "plain":
						plain = append(plain, f)
					case "decrypting":
						decrypting = append(decrypting, f)
					}
				}
			}
			if len(plain) != 1 || plain[0].Severity != result.SeverityError {
				t.Fatalf("want one error %q for Kustomization plain, got:\n%s", msg, findingsText(cb))
			}
			f := plain[0]
			if f.Origin != (result.Origin{File: "secrets/cluster-secrets.sops.yaml", Line: 1}) || f.Object == nil || f.Object.String() != "Secret/flux-system/cluster-secrets" {
				t.Errorf("the finding must name the Secret and its file: %v %v", f.Origin, f.Object)
			}
			if len(decrypting) != 0 {
				t.Errorf("a Kustomization with spec.decryption must not get %q", msg)
			}
			// With the key, the Kustomization that decrypts gets plaintext.
			if key != "" {
				o := mustObject(t, mustKustomization(t, cb, "flux-system", "decrypting"), "Secret", "flux-system", "cluster-secrets")
				if o.Encrypted || str(t, o.Object, "stringData", "API_TOKEN") != "tok-staging-9f8e7d" {
					t.Errorf("the decrypting Kustomization must hold the decrypted Secret")
				}
			}
		})
	}
}
