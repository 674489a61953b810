package build_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil/gitserver"
)

// TestGitRepositorySecretRef fetches a private repository with the
// credentials its GitRepository's secretRef names, from a Secret the
// cluster path builds: in the same Kustomization, in another one built
// later (the source waits for it), or nowhere (reported, nothing sent).
func TestGitRepositorySecretRef(t *testing.T) {
	srv := gitserver.NewTLS(t)
	srv.Seed("org/private.git", map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: private\n  namespace: default\n"})
	srv.SetToken("repo-password")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("reader:repo-password"))

	source1 := `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: private
  namespace: flux-system
spec:
  interval: 5m
  url: ` + srv.URL("org/private.git") + `
  ref: {branch: main}
  secretRef: {name: SECRET}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: private-app
  namespace: flux-system
spec:
  interval: 10m
  path: ./deploy
  prune: true
  sourceRef: {kind: GitRepository, name: private}
`
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: private-git\n  namespace: flux-system\nstringData:\n  username: reader\n  password: repo-password\n"
	later := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: secrets
  namespace: flux-system
spec:
  interval: 10m
  path: ./secrets
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`
	cases := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"same-kustomization", map[string]string{
			"clusters/test/git.yaml":    strings.ReplaceAll(source1, "SECRET", "private-git"),
			"clusters/test/secret.yaml": secret}, ""},
		{"built-later", map[string]string{
			"clusters/test/git.yaml":     strings.ReplaceAll(source1, "SECRET", "private-git"),
			"clusters/test/secrets.yaml": later,
			"secrets/secret.yaml":        secret}, ""},
		{"missing", map[string]string{
			"clusters/test/git.yaml": strings.ReplaceAll(source1, "SECRET", "nope")}, "secretRef flux-system/nope: no such Secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			before := len(srv.Authorizations())
			cb := buildOne(t, dir, "clusters/test", buildConfig{git: &source.GitFetcher{CacheDir: t.TempDir(), CABundle: srv.CertPEM(), Network: source.RunNetwork(nil, true)}})
			kb := mustKustomization(t, cb, "flux-system", "private-app")
			seen := srv.Authorizations()[before:]
			if tc.wantErr != "" {
				if kb.Err == nil || !strings.Contains(kb.Err.Error(), tc.wantErr) {
					t.Errorf("want %q, got %v", tc.wantErr, kb.Err)
				}
				if len(seen) != 0 {
					t.Errorf("nothing may be fetched without the Secret, got %d requests", len(seen))
				}
				return
			}
			if errs := errorFindings(cb); len(errs) != 0 {
				t.Fatalf("unexpected errors:\n%s", findingsText(cb))
			}
			mustObject(t, kb, "ConfigMap", "default", "private")
			for _, h := range seen {
				if h != want {
					t.Errorf("the server got Authorization %q, want the Secret's credentials", h)
				}
			}
		})
	}
}
