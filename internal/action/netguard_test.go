package action_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/testutil/gitserver"
)

// TestAllowLocalSourcesInput: a GitRepository on loopback is refused
// before any request unless the allow-local-sources input is true, the
// same opt-in as the CLI's flag.
func TestAllowLocalSourcesInput(t *testing.T) {
	git := gitserver.New(t)
	git.Seed("org/apps.git", map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: app-a\n"})
	f := actiontest.NewFleet(t)
	f.Write(map[string]string{"clusters/a/other.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: other
  namespace: flux-system
spec:
  interval: 1h
  url: ` + git.URL("org/apps.git") + `
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: other
  namespace: flux-system
spec:
  interval: 1h
  path: ./deploy
  prune: true
  sourceRef:
    kind: GitRepository
    name: other
`})
	f.Commit("base")

	r := actiontest.NewRunner(t, nil, f.Dir, "workflow_dispatch", map[string]any{})
	r.Env["INPUT_MODE"] = "validate"
	r.Env["INPUT_PATH"] = "clusters/a"
	out := r.Run()
	if out.ExitCode != 1 || !strings.Contains(r.Log.String(), "a loopback address") || !strings.Contains(r.Log.String(), "allow-local-sources") {
		t.Fatalf("without the input: exit %d, log:\n%s", out.ExitCode, r.Log.String())
	}
	if n := len(git.Authorizations()); n != 0 {
		t.Fatalf("the Git server saw %d requests", n)
	}

	r.Env["INPUT_ALLOW-LOCAL-SOURCES"] = "true"
	if out := r.Run(); out.ExitCode != 0 || len(git.Authorizations()) == 0 {
		t.Fatalf("with the input: exit %d, %d requests, log:\n%s", out.ExitCode, len(git.Authorizations()), r.Log.String())
	}

	r.Env["INPUT_ALLOW-LOCAL-SOURCES"] = "maybe"
	if out := r.Run(); out.ExitCode != 1 || !strings.Contains(r.Log.String(), "input allow-local-sources") {
		t.Fatalf("a bad value: exit %d, log:\n%s", out.ExitCode, r.Log.String())
	}
}
