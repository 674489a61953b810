package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil"
)

type cliResult struct {
	code     int
	out, err string
}

func runCLI(t *testing.T, env map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, streams{out: &out, err: &errb, in: strings.NewReader("")}, testEnv(env))
	return cliResult{code: code, out: out.String(), err: errb.String()}
}

// testEnv is env, plus the proxy settings TestMain gives the process: the
// chart server is reached through HTTP_PROXY, which slipway's main passes
// on from the process environment.
func testEnv(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY":
			return os.Getenv(k)
		}
		return ""
	}
}

func fleet(t *testing.T) (repo, key string) {
	root := testutil.RepoRoot(t)
	return filepath.Join(root, "testdata", "fleet"), filepath.Join(root, "testdata", "keys", "age.agekey")
}

func TestValidateExampleFleet(t *testing.T) {
	repo, key := fleet(t)
	r := runCLI(t, nil, "validate", "--repo", repo, "--sops-age-key-file", key)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"✔ clusters/production", "✔ clusters/staging"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

func TestValidateKeyFromEnvironment(t *testing.T) {
	repo, key := fleet(t)
	data, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	// Without a key the Secret is reported (info), not failed.
	r := runCLI(t, nil, "validate", "--repo", repo, "--path", "clusters/staging", "-o", "json")
	if r.code != 0 || !strings.Contains(r.out, "no decryption key given") {
		t.Fatalf("without a key: exit %d, output:\n%s", r.code, r.out)
	}
	r = runCLI(t, map[string]string{"SOPS_AGE_KEY": string(data)}, "validate", "--repo", repo, "--path", "clusters/staging", "-o", "json")
	var doc struct {
		Errors   int
		Clusters []struct{ Findings []struct{ Message string } }
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, r.out)
	}
	if r.code != 0 || doc.Errors != 0 || strings.Contains(r.out, "no age key") {
		t.Fatalf("with SOPS_AGE_KEY: exit %d, output:\n%s", r.code, r.out)
	}
	if strings.Contains(r.out+r.err, "AGE-SECRET-KEY") {
		t.Fatal("the age key was printed")
	}
}

func TestValidateBrokenExitsOne(t *testing.T) {
	root := testutil.RepoRoot(t)
	r := runCLI(t, nil, "validate", "--repo", filepath.Join(root, "testdata", "broken", "dependson-cycle", "repo"))
	if r.code != 1 || !strings.Contains(r.out, "dependency cycle") {
		t.Fatalf("exit %d, output:\n%s\n%s", r.code, r.out, r.err)
	}
}

func TestBuildOutputs(t *testing.T) {
	repo, key := fleet(t)
	r := runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/staging", "--sops-age-key-file", key)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if !strings.Contains(r.out, "# Source: apps/base/podinfo/deployment.yaml:1") || !strings.Contains(r.out, "# Kustomization: flux-system/apps") {
		t.Errorf("yaml output lacks source comments:\n%.2000s", r.out)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--path", "clusters/staging", "-o", "json")
	var doc []map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.out), &doc) != nil || len(doc) != 1 {
		t.Fatalf("json output: exit %d\n%.500s", r.code, r.out)
	}
	dir := t.TempDir()
	r = runCLI(t, nil, "build", "--repo", repo, "--output-dir", dir, "--sops-age-key-file", key)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, f := range []string{"clusters/staging/flux-system_apps.yaml", "clusters/production/flux-system_flux-system.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--output-dir: %v", err)
		}
	}
}

func TestBadInvocations(t *testing.T) {
	repo, _ := fleet(t)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"validate", "--repo", repo, "--path", "clusters/nope"}, 1, `path "clusters/nope": does not exist`},
		{[]string{"validate", "--repo", repo, "--path", "../../etc"}, 1, "escapes the repository root"},
		{[]string{"validate", "--repo", filepath.Join(repo, "no-such-dir")}, 1, "opening repository"},
		{[]string{"validate", "--repo", repo, "-o", "xml"}, 2, "want text, json or html"},
		{[]string{"validate", "--repo", repo, "--kubernetes-version", "2.0"}, 2, "kubernetes version"},
		{[]string{"validate", "--repo", repo, "--kubernetes-version", "1.99"}, 2, "newer than the schemas"},
		{[]string{"build", "--repo", repo, "--sops-age-key-file", "/nonexistent/key"}, 1, "reading age key file"},
		{[]string{"build", "--repo", repo, "-o", "toml"}, 2, "want yaml or json"},
	}
	for _, tc := range cases {
		r := runCLI(t, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.err, tc.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, r.code, tc.code, r.err, tc.msg)
		}
	}
}

func TestBadAgeKeyNotEchoed(t *testing.T) {
	repo, _ := fleet(t)
	bad := "AGE-SECRET-KEY-1NOTAREALKEYBUTLOOKSSECRET"
	r := runCLI(t, map[string]string{"SOPS_AGE_KEY": bad}, "validate", "--repo", repo)
	if r.code == 0 || strings.Contains(r.out+r.err, "NOTAREALKEY") {
		t.Fatalf("exit %d; the key must be refused and never printed: %s%s", r.code, r.out, r.err)
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.out, "slipway ") {
		t.Fatalf("%+v", r)
	}
}

// TestBuildUnrenderedHelmReleaseExitsOne: a HelmRelease whose chart source
// cannot be reached leaves the output incomplete, so build says which one
// and exits 1, after printing everything else.
func TestBuildUnrenderedHelmReleaseExitsOne(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "clusters", "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Port 1 on loopback: connection refused, no proxy, no DNS.
	doc := `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: gone, namespace: flux-system}
spec: {interval: 1h, url: "http://127.0.0.1:1/charts"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: flux-system}
data: {a: b}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: flux-system}
spec:
  interval: 1h
  chart:
    spec:
      chart: web
      sourceRef: {kind: HelmRepository, name: gone}
`
	if err := os.WriteFile(filepath.Join(dir, "clusters", "dev", "release.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "build", "--repo", dir, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.err, "clusters/dev/release.yaml:11") || !strings.Contains(r.err, "HelmRelease/flux-system/web") || !strings.Contains(r.err, "unreachable") {
		t.Errorf("stderr does not say which HelmRelease failed and why:\n%s", r.err)
	}
	if !strings.Contains(r.out, "name: kept") {
		t.Errorf("the rest of the build was not printed:\n%s", r.out)
	}
}

// statusRelease is a cluster path whose HelmRelease takes its values from a
// Secret the repository does not hold.
const statusRelease = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: example-charts, namespace: flux-system}
spec: {interval: 1h, url: "http://charts.example.test"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: status, namespace: demo}
spec:
  interval: 1h
  chart:
    spec:
      chart: status-page
      version: 1.0.0
      sourceRef: {kind: HelmRepository, name: example-charts, namespace: flux-system}
  valuesFrom:
    - kind: Secret
      name: status-values
`

func statusRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "clusters", "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clusters", "dev", "release.yaml"), []byte(statusRelease), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestExternalObjectsFile: --external-objects supplies what the repository
// lacks; a wrong file is a usage error at its file and line.
func TestExternalObjectsFile(t *testing.T) {
	dir := statusRepo(t)
	r := runCLI(t, nil, "validate", "--repo", dir, "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.out, "status-values not found") {
		t.Fatalf("without the Secret: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	ext := filepath.Join(t.TempDir(), "external.yaml")
	if err := os.WriteFile(ext, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: status-values, namespace: demo}\nstringData:\n  values.yaml: 'title: file-only-title-4242'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "build", "--repo", dir, "--cache-dir", t.TempDir(), "--external-objects", ext)
	if r.code != 0 || !strings.Contains(r.out, "status-content") {
		t.Fatalf("with the Secret from a file: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if strings.Contains(r.out+r.err, "file-only-title-4242") {
		t.Error("a value of the external Secret is printed")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: demo}\n---\nkind: Deployment\nmetadata: {name: web}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "build", "--repo", dir, "--external-objects", bad)
	if r.code != 2 || !strings.Contains(r.err, bad+":5: Deployment web") {
		t.Fatalf("a wrong file: exit %d\n%s", r.code, r.err)
	}
}

// TestApplyValuesFromClusterSecret: apply reads a valuesFrom Secret that
// exists only in the cluster, as helm-controller does, and installs the
// release with its values, printing none of them.
func TestApplyValuesFromClusterSecret(t *testing.T) {
	c := testcluster.ForTest(t, testcluster.Options{})
	if err := c.Apply(t.Context(), `apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Secret
metadata: {name: status-values, namespace: demo}
stringData:
  values.yaml: "title: cluster-only-title-7731"
`); err != nil {
		t.Fatal(err)
	}
	dir := statusRepo(t)
	r := runCLI(t, nil, "apply", "--repo", dir, "--kubeconfig", c.Kubeconfig, "--cache-dir", t.TempDir(), "--wait", "--timeout", "2m")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if strings.Contains(r.out+r.err, "cluster-only-title-7731") {
		t.Error("a value of the cluster's Secret is printed")
	}
	got, err := c.Kubectl(t.Context(), "-n", "demo", "get", "configmap", "status-content", "-o", "jsonpath={.data.index\\.html}")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "<h1>cluster-only-title-7731</h1>") {
		t.Errorf("the release was not installed with the cluster Secret's values:\n%s", got)
	}
}

// A Kustomization named like a path: validate reports the name the API
// server would refuse, and build --output-dir writes nothing outside its
// folder.
func TestBuildOutputDirNameEscape(t *testing.T) {
	root := testutil.RepoRoot(t)
	repo := filepath.Join(root, "testdata", "broken", "name-escapes-output", "repo")
	r := runCLI(t, nil, "validate", "--repo", repo)
	if r.code != 1 || !strings.Contains(r.out, "clusters/dev/apps.yaml:2 [apiserver]") || !strings.Contains(r.out, `metadata.name: Invalid value: "../../../escaped"`) {
		t.Errorf("validate: exit %d\n%s%s", r.code, r.out, r.err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "b", "out")
	r = runCLI(t, nil, "build", "--repo", repo, "--output-dir", dir)
	if r.code == 0 || !strings.Contains(r.err, "is not a valid name, not written") {
		t.Errorf("build --output-dir: exit %d\n%s", r.code, r.err)
	}
	err := filepath.WalkDir(parent, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "escaped") {
			t.Errorf("wrote %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Credentials in a HelmRepository URL never reach any output format.
func TestURLCredentialsNeverPrinted(t *testing.T) {
	root := testutil.RepoRoot(t)
	repo := filepath.Join(root, "testdata", "broken", "url-credentials", "repo")
	for _, args := range [][]string{
		{"validate", "--repo", repo},
		{"validate", "--repo", repo, "-o", "json"},
		{"build", "--repo", repo},
		{"build", "--repo", repo, "-o", "json"},
	} {
		r := runCLI(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.out+r.err, "robot:**redacted**@127.0.0.1:1") {
			t.Errorf("%v: exit %d, the failure is not reported with its URL redacted:\n%s%s", args, r.code, r.out, r.err)
		}
		if strings.Contains(r.out+r.err, "Pa55wordInUrl") {
			t.Errorf("%v printed the URL's password", args)
		}
	}
}

// Bounded work on hostile input: a 512 KiB variable referenced 2,000
// times (1 GB once substituted) and a Kustomization of 10,000 documents
// are refused at file:line instead of taking minutes and gigabytes.
func TestUnboundedWorkRefused(t *testing.T) {
	root := testutil.RepoRoot(t)
	copyRepo := func() string {
		dir := filepath.Join(t.TempDir(), "repo")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "testdata", "broken", "url-credentials", "repo"))); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, "apps", "dev")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	write := func(dir, name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const appsKs = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/dev\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"

	amp := copyRepo()
	write(amp, "clusters/dev/vars.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: flux-system\ndata:\n  BIG: "+strings.Repeat("x", 512<<10)+"\n")
	write(amp, "clusters/dev/apps.yaml", appsKs+"  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n")
	var refs strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&refs, "  k%d: ${BIG}\n", i)
	}
	write(amp, "apps/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: amplified\n  namespace: default\ndata:\n"+refs.String())
	write(amp, "apps/dev/kustomization.yaml", "resources:\n  - cm.yaml\n")
	r := runCLI(t, nil, "validate", "--repo", amp, "--no-build-cache")
	if r.code != exitFailed || !strings.Contains(r.out, "apps/dev/cm.yaml:1: substituting variables in ConfigMap/default/amplified: variable substitution would make the object larger than 3 MiB") {
		t.Errorf("amplified substitution: exit %d\n%.2000s", r.code, r.out)
	}

	many := copyRepo()
	write(many, "clusters/dev/apps.yaml", appsKs)
	var docs strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&docs, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\n  namespace: default\n", i)
	}
	write(many, "apps/dev/many.yaml", docs.String())
	write(many, "apps/dev/kustomization.yaml", "resources:\n  - many.yaml\n")
	r = runCLI(t, nil, "validate", "--repo", many, "--no-build-cache")
	if r.code != exitFailed || !strings.Contains(r.out, "apps/dev/many.yaml:30002: too many YAML documents: this Kustomization reads more than 5000") {
		t.Errorf("10,000 documents: exit %d\n%.2000s", r.code, r.out)
	}
}
