package build_test

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"github.com/slipwayhq/slipway/internal/result"
)

const gitRepoTmpl = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: REPO
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://github.com/example-org/fleet
`

const syncKsTmpl = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: NAME
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/prod
  prune: true
  sourceRef:
    kind: GitRepository
    name: REPO
`

func replaceAll(s string, oldnew ...string) string {
	return strings.NewReplacer(oldnew...).Replace(s)
}

// TestSelfReferencingRootNotBuiltTwice: the cluster path contains the
// Kustomization that `flux bootstrap` wrote for it. slipway starts from a
// synthetic root; it must adopt that Kustomization as the root (its name,
// its spec) instead of building the same path a second time, and must not
// loop on it.
func TestSelfReferencingRootNotBuiltTwice(t *testing.T) {
	cases := []struct {
		name     string
		ksName   string
		repoName string
		// ksFirst puts the Kustomization before its GitRepository.
		ksFirst bool
		// origin makes the repository a Git checkout whose origin is the
		// GitRepository URL, so a GitRepository not named flux-system is
		// still recognised as this repository.
		origin bool
	}{
		{name: "bootstrap-defaults", ksName: "flux-system", repoName: "flux-system"},
		{name: "renamed-kustomization", ksName: "cluster-prod", repoName: "flux-system"},
		{name: "renamed-kustomization-and-repository", ksName: "cluster-prod", repoName: "cluster-prod", origin: true},
		{name: "kustomization-listed-before-its-repository", ksName: "cluster-prod", repoName: "cluster-prod", origin: true, ksFirst: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.ksFirst {
			}
			dir := t.TempDir()
			repo := replaceAll(gitRepoTmpl, "REPO", c.repoName)
			ks := replaceAll(syncKsTmpl, "NAME", c.ksName, "REPO", c.repoName)
			sync := "---\n" + repo + "---\n" + ks
			if c.ksFirst {
				sync = "---\n" + ks + "---\n" + repo
			}
			writeTree(t, dir, map[string]string{
				"clusters/prod/flux-system/gotk-sync.yaml":     sync,
				"clusters/prod/flux-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-sync.yaml\n",
				"clusters/prod/apps.yaml": replaceAll(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: REPO
`, "REPO", c.repoName),
				"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  a: b\n",
			})
			if c.origin {
				r, err := git.PlainInit(dir, false)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{"git@github.com:example-org/fleet.git"}}); err != nil {
					t.Fatal(err)
				}
			}
			cb := buildOne(t, dir, "clusters/prod", buildConfig{})
			if errs := errorFindings(cb); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", findingsText(cb))
			}
			var roots []result.KustomizationRef
			for _, kb := range cb.Kustomizations {
				if kb.Path == "clusters/prod" {
					roots = append(roots, kb.Ref)
				}
			}
			want := result.KustomizationRef{Namespace: "flux-system", Name: c.ksName}
			if len(roots) != 1 || roots[0] != want {
				t.Fatalf("clusters/prod must be built once, as %s; built as %v (all: %v)", want, roots, refs(cb))
			}
			if len(cb.Kustomizations) != 2 || cb.Kustomizations[0].Ref != want {
				t.Fatalf("want [%s flux-system/apps], got %v", want, refs(cb))
			}
			if c.ksName != "flux-system" && kustomization(cb, "flux-system", "flux-system") != nil {
				t.Errorf("the synthetic flux-system/flux-system root must be replaced by %s", want)
			}
			root := cb.Kustomizations[0]
			if root.Origin.File != "clusters/prod/flux-system/gotk-sync.yaml" {
				t.Errorf("root origin = %v, want the gotk-sync.yaml file", root.Origin)
			}
			// The root's own output carries the owner labels of its real name,
			// as kustomize-controller would set them.
			self := mustObject(t, root, "Kustomization", "flux-system", c.ksName)
			if got := self.Object.GetLabels()["kustomize.toolkit.fluxcd.io/name"]; got != c.ksName {
				t.Errorf("objects of the root must be labelled with its name %q, got %q", c.ksName, got)
			}
			apps := mustKustomization(t, cb, "flux-system", "apps")
			mustObject(t, apps, "ConfigMap", "default", "app")
			for _, f := range cb.Findings {
				if f.Kustomization != nil && f.Kustomization.Name == "flux-system" && c.ksName != "flux-system" {
					t.Errorf("finding still refers to the synthetic root: %s", f.Message)
				}
			}
		})
	}
}
