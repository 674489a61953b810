package build_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/validate"
)

// TestMalformedInputsNoPanic builds repositories holding malformed input.
// Nothing may panic or hang; a defect must surface as an error finding that
// names the file (and the Kustomization) it comes from, and input Flux
// accepts must not be reported.
func TestMalformedInputsNoPanic(t *testing.T) {
	deep := strings.Repeat("[", 10050) + strings.Repeat("]", 10050)
	cases := []struct {
		name  string
		files map[string]string
		// wantFile is the file an error finding must name; "" means the
		// input is valid for Flux and no error is expected.
		wantFile string
		// wantMsg must appear in that finding.
		wantMsg string
		// wantKs is the Kustomization the finding belongs to.
		wantKs string
		// validate runs slipway's checks too (dependsOn is one of them).
		validate bool
		// bug, when set, skips the location assertions (known bug).
		bug   string
		check func(t *testing.T, cb *result.ClusterBuild)
	}{
		{name: "empty-file", files: map[string]string{"clusters/test/empty.yaml": "", "clusters/test/cm.yaml": configMap("a")}},
		{name: "only-document-separator", files: map[string]string{"clusters/test/sep.yaml": "---\n", "clusters/test/cm.yaml": configMap("a")}},
		{name: "null-document", files: map[string]string{"clusters/test/null.yaml": "null\n---\n~\n", "clusters/test/cm.yaml": configMap("a")}},
		{name: "list-at-top-level", files: map[string]string{"clusters/test/list.yaml": "- a\n- b\n"},
			wantFile: "clusters/test/list.yaml", wantMsg: "missing Resource metadata", wantKs: "flux-system"},
		{name: "scalar-document", files: map[string]string{"clusters/test/scalar.yaml": "hello\n"},
			wantFile: "clusters/test/scalar.yaml", wantMsg: "missing Resource metadata", wantKs: "flux-system"},
		{name: "binary-junk", files: map[string]string{"clusters/test/junk.yaml": string([]byte{0x00, 0xff, 0xfe, 0x01, 'a', ':', 0x00, '\n', 0x80, 0x81, 0xc3})},
			wantFile: "clusters/test/junk.yaml", wantMsg: "junk.yaml", wantKs: "flux-system"},
		{name: "tab-indentation", files: map[string]string{"clusters/test/tabs.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n"},
			wantFile: "clusters/test/tabs.yaml", wantMsg: "line 4", wantKs: "flux-system"},
		{name: "object-without-name", files: map[string]string{"clusters/test/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: default\n"},
			wantFile: "clusters/test/cm.yaml", wantMsg: "metadata.name", wantKs: "flux-system"},
		{name: "deeply-nested-plain-folder", files: map[string]string{"clusters/test/deep.yaml": "a: " + deep + "\n"},
			wantFile: "clusters/test/deep.yaml", wantMsg: "max depth", wantKs: "flux-system"},
		{name: "deeply-nested-kustomize-resource", files: map[string]string{
			"clusters/test/kustomization.yaml": "resources:\n  - deep.yaml\n",
			"clusters/test/deep.yaml":          "a: " + deep + "\n"},
			wantFile: "clusters/test/deep.yaml", wantMsg: "max depth", wantKs: "flux-system"},
		{name: "kustomization-file-is-a-list", files: map[string]string{"clusters/test/kustomization.yaml": "- resources\n- a.yaml\n"},
			wantFile: "clusters/test/kustomization.yaml", wantMsg: "cannot unmarshal array", wantKs: "flux-system"},
		{name: "huge-numbers", files: map[string]string{"clusters/test/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: big\n  namespace: default\nspec:\n  replicas: 123456789012345678901234567890\n  progressDeadlineSeconds: 1e400\n  minReadySeconds: 0x7fffffffffffffff1\n"},
			check: func(t *testing.T, cb *result.ClusterBuild) {
				// kustomize reads the numbers as Flux's build does; the
				// object is built (the API server would reject it).
				mustObject(t, mustKustomization(t, cb, "flux-system", "flux-system"), "Deployment", "default", "big")
			}},
		{name: "spec-path-empty", files: map[string]string{
			"clusters/test/ks.yaml": strings.Replace(ksGit("whole-repo", "x"), "  path: x\n", "  path: \"\"\n", 1),
			"apps/cm.yaml":          configMap("root-cm")},
			check: func(t *testing.T, cb *result.ClusterBuild) {
				// An empty spec.path is the root of the source: the whole
				// repository, including the file declaring this Kustomization.
				kb := mustKustomization(t, cb, "flux-system", "whole-repo")
				if kb.Path != "." {
					t.Errorf("Path = %q, want .", kb.Path)
				}
				mustObject(t, kb, "ConfigMap", "default", "root-cm")
				mustObject(t, kb, "Kustomization", "flux-system", "whole-repo")
				if len(cb.Kustomizations) != 2 {
					t.Errorf("whole-repo rediscovers itself; it must be built once: %v", refs(cb))
				}
			}},
		{name: "dependson-itself", files: map[string]string{
			"clusters/test/ks.yaml": ksGit("self", "./apps") + "  dependsOn:\n    - name: self\n",
			"apps/cm.yaml":          configMap("a")},
			validate: true, wantFile: "clusters/test/ks.yaml", wantMsg: "dependency cycle: flux-system/self -> flux-system/self", wantKs: "self"},
		{name: "kustomization-spec-is-a-string", files: map[string]string{
			"clusters/test/ks.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: s\n  namespace: flux-system\nspec: hello\n"},
			wantFile: "clusters/test/ks.yaml", wantMsg: "Kustomization flux-system/s", wantKs: "flux-system"},
		{name: "invalid-variable-name", files: map[string]string{
			"clusters/test/ks.yaml": ksGit("v", "./apps") + "  postBuild:\n    substitute:\n      1BAD: x\n",
			"apps/cm.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\ndata:\n  a: ${X:=y}\n"},
			wantFile: "clusters/test/ks.yaml", wantMsg: "'1BAD' var name is invalid", wantKs: "v"},
		{name: "unterminated-variable", files: map[string]string{
			"clusters/test/ks.yaml": ksGit("v", "./apps") + "  postBuild:\n    substitute:\n      X: x\n",
			"apps/cm.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\ndata:\n  a: ${X\n"},
			wantFile: "clusters/test/ks.yaml", wantMsg: "ConfigMap/default/c", wantKs: "v"},
		{name: "unsupported-source-kind", files: map[string]string{
			"clusters/test/ks.yaml": strings.Replace(ksGit("o", "./apps"), "kind: GitRepository", "kind: OCIRepository", 1),
			"apps/cm.yaml":          configMap("a")},
			wantFile: "clusters/test/ks.yaml", wantMsg: "OCIRepository", wantKs: "o"},
		{name: "unknown-git-repository", files: map[string]string{
			"clusters/test/ks.yaml": strings.Replace(ksGit("m", "./apps"), "    name: flux-system\n", "    name: nowhere\n", 1),
			"apps/cm.yaml":          configMap("a")},
			wantFile: "clusters/test/ks.yaml", wantMsg: "no such GitRepository", wantKs: "m"},
	}
	var checks []validate.Check
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, c.files)
			cb := buildOne(t, dir, "clusters/test", buildConfig{})
			if c.validate {
				if checks == nil {
					var err error
					if checks, err = validate.DefaultChecks(validate.Options{}); err != nil {
						t.Fatal(err)
					}
				}
				validate.Run(cb, checks)
			}
			txt := findingsText(cb)
			// Every renderer copes with the result.
			y := renderYAML(t, cb)
			var buf bytes.Buffer
			if err := report.BuildJSON(&buf, []*result.ClusterBuild{cb}); err != nil {
				t.Fatalf("BuildJSON: %v", err)
			}
			if strings.Contains(txt, dir) || strings.Contains(y, dir) {
				t.Errorf("output names the absolute repository path:\n%s", txt)
			}
			if c.check != nil {
				c.check(t, cb)
			}
			errs := errorFindings(cb)
			if c.wantFile == "" {
				if len(errs) != 0 {
					t.Errorf("Flux accepts this input; got:\n%s", txt)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("want an error finding, got none")
			}
			if c.bug != "" {
				t.Skip(c.bug)
			}
			var hit bool
			for _, f := range errs {
				if f.Origin.File == c.wantFile && strings.Contains(f.Message, c.wantMsg) && f.Kustomization != nil && f.Kustomization.Name == c.wantKs {
					hit = true
				}
			}
			if !hit {
				t.Errorf("want an error at %s about %q for Kustomization %s; got:\n%s", c.wantFile, c.wantMsg, c.wantKs, txt)
			}
		})
	}
}
