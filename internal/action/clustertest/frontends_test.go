package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
)

// brokenFiles add to clusters/<name> a Kustomization whose only object
// fails validation, beside the valid apps.
func brokenFiles(name string) map[string]string {
	return map[string]string{
		"clusters/" + name + "/broken.yaml": fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: broken
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./apps/%s-broken
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`, name),
		"apps/" + name + "-broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: app-" + name + "\nspex: {}\n",
	}
}

// The action and the CLI run one engine: the same cluster path deployed by
// each in turn (the action, then the built CLI) gives the same outcome per
// Kustomization: the invalid one is not deployed, the valid ones are, and
// both report failure.
func TestFrontEndsAgree(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	bin := slipwayBinary(t)
	f := actiontest.NewFleet(t)
	f.Write(brokenFiles("a"))
	sha := f.Commit("one invalid Kustomization per cluster path")

	r := actiontest.NewRunner(t, srv, f.Dir, "workflow_dispatch", map[string]any{"inputs": map[string]any{}})
	r.Env["GITHUB_SHA"] = sha
	r.Env["INPUT_MODE"] = "deploy"
	r.Env["INPUT_PATH"] = "clusters/a"
	r.Env["INPUT_KUBECONFIG"] = kubeconfig
	out := r.Run()
	summary := r.File("summary")
	if out.ExitCode != 1 {
		t.Fatalf("action: exit %d, want 1\n%s", out.ExitCode, summary)
	}

	cmd := exec.Command(bin, "apply", "--repo", f.Dir, "--path", "clusters/a", "--kubeconfig", local.Kubeconfig, "-o", "json", "--cache-dir", t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("cli: %v, want exit 1\n%s", err, stderr.String())
	}
	var cli []struct {
		Kustomizations []struct {
			Kustomization struct{ Namespace, Name string }
			Status        string
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &cli); err != nil || len(cli) != 1 {
		t.Fatalf("cli JSON: %v\n%s", err, stdout.String())
	}
	var cliStatus []string
	for _, k := range cli[0].Kustomizations {
		cliStatus = append(cliStatus, k.Kustomization.Namespace+"/"+k.Kustomization.Name+" "+k.Status)
	}
	sort.Strings(cliStatus)
	if got := strings.Join(cliStatus, ", "); got != "flux-system/apps applied, flux-system/broken failed, flux-system/flux-system applied" {
		t.Errorf("cli statuses: %s", got)
	}
	// The action's summary states the same: the counts, and each
	// Kustomization not applied.
	applied := 0
	for _, s := range cliStatus {
		ref, status, _ := strings.Cut(s, " ")
		if status == "applied" {
			applied++
			continue
		}
		if !strings.Contains(summary, "| "+ref+" | "+status+" | ") {
			t.Errorf("action summary lacks %s %s:\n%s", ref, status, summary)
		}
	}
	if want := fmt.Sprintf("Kustomizations: %d applied, %d failed.", applied, len(cliStatus)-applied); !strings.Contains(summary, want) {
		t.Errorf("action summary lacks %q:\n%s", want, summary)
	}
	for _, name := range []string{"a"} {
		got, err := local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-"+name, "-o", "jsonpath={.data.version}")
		if err != nil || got != "1" {
			t.Errorf("clusters/%s: the valid Kustomization was not deployed: %q %v", name, got, err)
		}
		if _, err := local.Kubectl(context.Background(), "get", "configmap", "bad", "-n", "app-"+name); err == nil {
			t.Errorf("clusters/%s: the invalid Kustomization was deployed", name)
		}
	}
}
