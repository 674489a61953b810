package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

type cliResult struct {
	code     int
	out, err string
}

func runCLI(t *testing.T, env map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, streams{out: &out, err: &errb, in: strings.NewReader("")}, func(k string) string { return env[k] })
	return cliResult{code: code, out: out.String(), err: errb.String()}
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
	if r.code != 0 || !strings.Contains(r.out, "no age key given") {
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
		{[]string{"validate", "--repo", repo, "-o", "xml"}, 2, "want text or json"},
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
