package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// TestAPIServerKilledDuringApply kills the API server while apply waits for
// a Deployment that never gets ready. apply must fail on its own, without
// a panic or a hang; once the control plane is back, the next apply of a
// changed repository converges: the inventory lists exactly what the
// repository holds, what left it is pruned, and nothing carrying the
// Kustomization's ApplySet label is left untracked.
func TestAPIServerKilledDuringApply(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a local cluster")
	}
	c := testcluster.ForTest(t, testcluster.Options{})
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	files := hostileBase()
	delete(files, "apps/dev/secret.yaml")
	files["apps/dev/kustomization.yaml"] = "namespace: hostile\nresources:\n  - namespace.yaml\n  - configmap.yaml\n  - a.yaml\n  - stuck.yaml\n"
	files["apps/dev/a.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
	files["apps/dev/stuck.yaml"] = stuckDeployment("nodeSelector: {slipway.test/none: \"true\"}")
	for p, content := range files {
		writeFile(t, filepath.Join(repo, p), content)
	}
	apply := func(extra ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], append([]string{"apply", "--repo", repo, "--kubeconfig", c.Kubeconfig, "--cache-dir", filepath.Join(dir, "cache"), "--lock-ttl", "3s"}, extra...)...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1", "SLIPWAY_KUBECONFIG=", "GITHUB_RUN_ID=")
		return cmd
	}

	var out bytes.Buffer
	first := apply("--wait", "--timeout", "30s")
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := c.Kubectl(t.Context(), "-n", "hostile", "get", "deployment", "stuck"); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("apply exited (%v) before the API server was killed:\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatalf("apply created nothing in 60 s:\n%s", out.String())
		}
	}
	if err := c.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	select {
	case <-exited:
	case <-time.After(90 * time.Second):
		_ = first.Process.Kill()
		<-exited
		t.Fatalf("apply still running 90 s after the API server died:\n%s", out.String())
	}
	t.Logf("apply, its API server killed, exited %d after %s:\n%s", first.ProcessState.ExitCode(), time.Since(killed).Round(time.Millisecond), out.String())
	if first.ProcessState.ExitCode() != exitFailed {
		t.Errorf("exit %d, want %d", first.ProcessState.ExitCode(), exitFailed)
	}
	if strings.Contains(out.String(), "panic:") {
		t.Error("apply panicked")
	}

	if err := c.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	// a leaves the repository, b comes. No --wait: what is checked is the
	// inventory and the prune, not the simulated pods.
	writeFile(t, filepath.Join(repo, "apps/dev/kustomization.yaml"), "namespace: hostile\nresources:\n  - namespace.yaml\n  - configmap.yaml\n  - b.yaml\n  - stuck.yaml\n")
	writeFile(t, filepath.Join(repo, "apps/dev/b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
	second, err := apply().CombinedOutput()
	if err != nil {
		t.Fatalf("the apply after the restart: %v\n%s", err, second)
	}

	inv := inventoryIDs(t, c, "inventory-flux-system-apps")
	want := []string{"ConfigMap/hostile/b", "ConfigMap/hostile/settings", "Deployment/hostile/stuck", "Namespace/hostile"}
	if !slices.Equal(inv, want) {
		t.Errorf("inventory %v, want %v", inv, want)
	}
	if _, err := c.Kubectl(t.Context(), "-n", "hostile", "get", "configmap", "a"); err == nil {
		t.Error("ConfigMap a, applied before the API server died and removed since, was not pruned")
	}
	labelled, err := c.Kubectl(t.Context(), "-n", "hostile", "get", "configmaps,deployments", "-l", deploy.LabelApplySetPartOf, "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{"\n"}{end}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range strings.Fields(labelled) {
		if !slices.Contains(inv, id) {
			t.Errorf("%s carries an ApplySet label but is in no inventory", id)
		}
	}
}

// stuckDeployment is a Deployment of the apps Kustomization; podSpec is
// added to its pod spec (a nodeSelector no node matches keeps it from
// getting ready).
func stuckDeployment(podSpec string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  selector:
    matchLabels: {app: stuck}
  template:
    metadata:
      labels: {app: stuck}
    spec:
      ` + podSpec + `
      containers:
        - name: app
          image: registry.invalid/app:1
`
}

// inventoryIDs lists the objects an inventory ConfigMap tracks, sorted.
func inventoryIDs(t *testing.T, c *testcluster.Cluster, name string) []string {
	t.Helper()
	data, err := c.Kubectl(t.Context(), "-n", deploy.SystemNamespace, "get", "configmap", name, "-o", "jsonpath={.data.inventory}")
	if err != nil {
		t.Fatal(err)
	}
	var entries []deploy.Entry
	if err := json.Unmarshal([]byte(data), &entries); err != nil {
		t.Fatalf("inventory %s: %v", name, err)
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ObjectID().String()
	}
	slices.Sort(ids)
	return ids
}
