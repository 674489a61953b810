package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Secret values reach slipway five ways: a Secret in the repository, a
// variable substituted from it, a Secret given with --external-objects, a
// HelmRelease's valuesFrom quoted back by a failing chart, and a password
// in a source's URL. None may appear in anything any offline command
// prints, in any format, whether it succeeds or fails.
func TestSecretCanariesNeverPrinted(t *testing.T) {
	const (
		repoSecret   = "canary-repo-secret-7c1d"
		substituted  = "canary-substituted-94ab"
		external     = "canary-external-3e55"
		chartQuoted  = "canary-chart-values-b6f0"
		urlPassword  = "canary-url-password-2d8e"
		newSubstitut = "canary-substituted-next-51c3"
	)
	canaries := []string{repoSecret, substituted, external, chartQuoted, urlPassword, newSubstitut}
	dir := filepath.Join(t.TempDir(), "repo")
	ks := func(name, path, extra string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" + extra
	}
	vars := func(v string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vars\n  namespace: flux-system\nstringData:\n  TOKEN: " + v + "\n  OTHER: " + repoSecret + "\n"
	}
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml":     "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  ref:\n    branch: main\n  url: https://github.com/acme/fleet\n---\n" + ks("flux-system", "./clusters/dev", ""),
		"clusters/dev/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
		"clusters/dev/vars.yaml":                      vars(substituted),
		"clusters/dev/apps.yaml":                      ks("apps", "./apps", "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: vars\n      - kind: Secret\n        name: external-vars\n"),
		"apps/kustomization.yaml":                     "resources:\n  - ns.yaml\n  - cm.yaml\n  - release.yaml\n",
		"apps/ns.yaml":                                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
		"apps/cm.yaml":                                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: demo\ndata:\n  auth: Bearer ${TOKEN}\n  ext: key ${EXTERNAL}\n",
		"apps/release.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: private
  namespace: demo
spec:
  interval: 1h
  url: https://robot:` + urlPassword + `@charts.example.test/private
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: remote
  namespace: demo
spec:
  interval: 1h
  chart:
    spec:
      chart: app
      sourceRef:
        kind: HelmRepository
        name: private
---
apiVersion: v1
kind: Secret
metadata:
  name: chart-values
  namespace: demo
stringData:
  values.yaml: "password: ` + chartQuoted + `"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: local
  namespace: demo
spec:
  interval: 1h
  chart:
    spec:
      chart: ./charts/strict
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  valuesFrom:
    - kind: Secret
      name: chart-values
`,
		"charts/strict/Chart.yaml":           "apiVersion: v2\nname: strict\nversion: 0.1.0\n",
		"charts/strict/templates/fail.yaml":  "{{ fail (printf \"password %s is too weak\" .Values.password) }}\n",
		"external/secrets.yaml":              "apiVersion: v1\nkind: Secret\nmetadata:\n  name: external-vars\n  namespace: flux-system\nstringData:\n  EXTERNAL: " + external + "\n",
		"clusters/dev/flux-system/.keep.txt": "",
	}
	write := func(files map[string]string) {
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(files)
	if _, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, dir, "base")
	write(map[string]string{"clusters/dev/vars.yaml": vars(newSubstitut)})
	commitAll(t, dir, "rotate the token")

	ext := filepath.Join(dir, "external", "secrets.yaml")
	outDir := t.TempDir()
	common := []string{"--repo", dir, "--external-objects", ext, "--cache-dir", t.TempDir()}
	for _, args := range [][]string{
		{"validate"}, {"validate", "-o", "json"},
		{"build"}, {"build", "-o", "json"}, {"build", "--output-dir", outDir},
		{"diff", "--base", "HEAD~1", "--head", "HEAD"},
		{"diff", "--base", "HEAD~1", "--head", "HEAD", "-o", "markdown"},
		{"diff", "--base", "HEAD~1", "--head", "HEAD", "-o", "json"},
		{"diff", "--base", "HEAD~1"},
		{"plan", "--base", "HEAD~1", "--head", "HEAD"},
	} {
		r := runCLI(t, nil, append(args, common...)...)
		out := r.out + r.err
		if strings.TrimSpace(out) == "" {
			t.Errorf("%v printed nothing (exit %d)", args, r.code)
		}
		for _, c := range canaries {
			if strings.Contains(out, c) {
				t.Errorf("%v (exit %d) printed the secret %s:\n%s", args, r.code, c, lineWith(out, c))
			}
		}
		// The failures themselves are reported, with the value masked.
		if args[0] == "validate" && (!strings.Contains(out, "is too weak") || !strings.Contains(out, "robot:**redacted**@")) {
			t.Errorf("%v does not report the failing chart and the unreachable repository:\n%.3000s", args, out)
		}
	}
	err := filepath.WalkDir(outDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		for _, c := range canaries {
			if strings.Contains(string(data), c) {
				t.Errorf("build --output-dir wrote the secret %s into %s", c, p)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
