package testcluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const deployment = `apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1
`

func TestCluster(t *testing.T) {
	start := time.Now()
	c := ForTest(t, Options{Nodes: 2})
	t.Logf("cluster %s ready in %s, kubeconfig %s", c.Name, time.Since(start).Round(time.Millisecond), c.Kubeconfig)
	ctx := t.Context()

	client, server, err := c.HTTPClient(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The API server reports the stamped version.
	var version struct {
		GitVersion string `json:"gitVersion"`
	}
	if code, err := GetJSON(ctx, client, server, "/version", &version); err != nil || code != http.StatusOK {
		t.Fatalf("GET /version: %d %v", code, err)
	}
	if !strings.HasPrefix(version.GitVersion, "v1.") {
		t.Errorf("server version %q, want a stamped v1.x version", version.GitVersion)
	}
	t.Logf("server version %s", version.GitVersion)

	// Two simulated nodes, Ready.
	var nodes struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Status struct {
				Conditions []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if code, err := GetJSON(ctx, client, server, "/api/v1/nodes", &nodes); err != nil || code != http.StatusOK {
		t.Fatalf("GET nodes: %d %v", code, err)
	}
	if len(nodes.Items) != 2 {
		t.Fatalf("got %d nodes, want 2", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		ready := false
		for _, cond := range n.Status.Conditions {
			ready = ready || (cond.Type == "Ready" && cond.Status == "True")
		}
		if !ready {
			t.Errorf("node %s is not Ready", n.Metadata.Name)
		}
	}

	// A Deployment rolls out: the controller manager creates the ReplicaSet
	// and pods, the scheduler binds them, kwok reports them running.
	ns := "rollout-test"
	if err := c.Apply(ctx, fmt.Sprintf(deployment, ns)); err != nil {
		t.Fatal(err)
	}
	rollout := time.Now()
	var dep struct {
		Status struct {
			AvailableReplicas int `json:"availableReplicas"`
		} `json:"status"`
	}
	poll(t, 60*time.Second, "deployment available", func() bool {
		code, err := GetJSON(ctx, client, server, "/apis/apps/v1/namespaces/"+ns+"/deployments/web", &dep)
		return err == nil && code == http.StatusOK && dep.Status.AvailableReplicas == 2
	})
	t.Logf("deployment available in %s", time.Since(rollout).Round(time.Millisecond))
	phases, err := c.Kubectl(ctx, "get", "pods", "-n", ns, "-o", "jsonpath={.items[*].status.phase}")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(phases); len(got) != 2 || got[0] != "Running" || got[1] != "Running" {
		t.Errorf("pod phases %q, want two Running", phases)
	}

	// Deleting the namespace removes it and its content (namespace
	// controller in the controller manager, pod deletion by kwok).
	if _, err := c.Kubectl(ctx, "delete", "namespace", ns, "--wait=false"); err != nil {
		t.Fatal(err)
	}
	deletion := time.Now()
	poll(t, 90*time.Second, "namespace gone", func() bool {
		code, err := GetJSON(ctx, client, server, "/api/v1/namespaces/"+ns, &struct{}{})
		return err == nil && code == http.StatusNotFound
	})
	t.Logf("namespace deleted in %s", time.Since(deletion).Round(time.Millisecond))

	// Stop removes everything; a second Stop is a no-op.
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("state folder %s still exists after Stop (%v)", c.Dir, err)
	}
	if _, err := os.Stat(c.Kubeconfig); !os.IsNotExist(err) {
		t.Errorf("kubeconfig %s still exists after Stop (%v)", c.Kubeconfig, err)
	}
}

// A cluster whose owning process died without Stop is removed by the next
// Start.
func TestReapOrphans(t *testing.T) {
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1")
	}
	state := t.TempDir()
	orphan, err := Start(t.Context(), Options{StateDir: state, Nodes: -1, Log: &testLogWriter{t: t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = orphan.Stop() })

	// Pretend the owner died: give the cluster the pid of a finished process.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan.owner, []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}

	ForTest(t, Options{StateDir: state, Nodes: -1})
	if _, err := os.Stat(orphan.Dir); !os.IsNotExist(err) {
		t.Errorf("orphan cluster %s still exists (%v)", orphan.Dir, err)
	}
	if _, err := os.Stat(orphan.owner); !os.IsNotExist(err) {
		t.Errorf("orphan owner file %s still exists (%v)", orphan.owner, err)
	}
}

func TestEnvtestAssets(t *testing.T) {
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1")
	}
	dir, err := EnvtestAssets()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: not an executable in %s (%v)", b, dir, err)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "hack", "cluster", "up.sh")); err != nil {
		t.Errorf("root %s has no hack/cluster/up.sh: %v", root, err)
	}
}

func poll(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// After the API server is killed, Restart brings back the whole control
// plane: the controller manager makes a Deployment's pods and the scheduler
// places them, which neither would do had it stayed down.
func TestRestartAfterAPIServerKill(t *testing.T) {
	c := ForTest(t, Options{Nodes: 1})
	ctx := t.Context()
	if err := c.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kubectl(ctx, "get", "--raw", "/readyz"); err == nil {
		t.Fatal("the API server still answers after it was killed")
	}
	start := time.Now()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted in %s", time.Since(start).Round(time.Millisecond))
	if err := c.Apply(ctx, fmt.Sprintf(deployment, "after-restart")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.Kubectl(ctx, "-n", "after-restart", "get", "pods", "-o", "jsonpath={.items[*].spec.nodeName}")
		if err == nil && len(strings.Fields(out)) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled pods a minute after the restart (nodes: %q, %v)", out, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
