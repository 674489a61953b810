package deploy_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// buildCLI returns the slipway binary, built once per package run (started
// by TestMain, next to the cluster's start).
func buildCLI(t *testing.T) string {
	t.Helper()
	cli.once.Do(startCLIBuild)
	<-cli.done
	if cli.err != nil {
		t.Fatalf("go build ./cmd/slipway: %v\n%s", cli.err, cli.out)
	}
	return cli.bin
}

var cli struct {
	once sync.Once
	done chan struct{}
	bin  string
	out  []byte
	err  error
}

// startCLIBuild builds the slipway binary in the background.
func startCLIBuild() {
	cli.done = make(chan struct{})
	go func() {
		defer close(cli.done)
		dir, err := os.MkdirTemp("", "slipway-deploy-test-")
		if err != nil {
			cli.err = err
			return
		}
		cli.bin = filepath.Join(dir, "slipway")
		if runtime.GOOS == "windows" {
			cli.bin += ".exe"
		}
		root, err := testcluster.RepoRoot()
		if err != nil {
			cli.err = err
			return
		}
		cmd := exec.Command("go", "build", "-o", cli.bin, "./cmd/slipway")
		cmd.Dir = root
		cli.out, cli.err = cmd.CombinedOutput()
	}()
}

// removeCLI removes the binary once the tests are done.
func removeCLI() {
	if cli.done != nil {
		<-cli.done
		if cli.bin != "" {
			_ = os.RemoveAll(filepath.Dir(cli.bin))
		}
	}
}

// members lists the live ConfigMaps and Deployments of a namespace that
// carry an ApplySet part-of label, as "Kind/ns/name" -> ApplySet ID.
func members(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range []string{"v1 ConfigMapList", "apps/v1 DeploymentList"} {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(deploytest.GVK(k))
		if err := kube.Client.List(context.Background(), list, client.InNamespace(ns), client.HasLabels{deploy.LabelApplySetPartOf}); err != nil {
			t.Fatal(err)
		}
		for _, u := range list.Items {
			if u.GetDeletionTimestamp() != nil {
				continue
			}
			out[result.IDOf(&u).String()] = u.GetLabels()[deploy.LabelApplySetPartOf]
		}
	}
	return out
}

// TestKilledMidwayThenRerun kills `slipway apply` while it waits for a
// Deployment that never gets ready, then changes the repository and deploys
// again: the run converges, the dead run's lock expires, nothing it created
// is left untracked, nothing that is not ours is deleted.
func TestKilledMidwayThenRerun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "killed")
	bin := buildCLI(t)
	ns := e.ID
	app := "apps/" + e.ID
	// Not part of the repository: must survive everything.
	if err := local.Apply(t.Context(), deploytest.NamespaceYAML(ns)+"---\n"+deploytest.ConfigMapYAML(ns, "unrelated", nil)); err != nil {
		t.Fatal(err)
	}
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "a.yaml", "b.yaml", "stuck.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/a.yaml":             deploytest.ConfigMapYAML(ns, "a", nil),
		app + "/b.yaml":             deploytest.ConfigMapYAML(ns, "b", nil),
		app + "/stuck.yaml":         deploytest.DeploymentYAML(ns, "stuck", "stuck", "nodeSelector: {slipway.test/none: \"true\"}"),
	})

	var out bytes.Buffer
	cmd := exec.Command(bin, "apply", "--repo", e.Dir, "--path", e.Path, "--kubeconfig", local.Kubeconfig,
		"--wait", "--timeout", "2m", "--lock-ttl", "3s")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "SLIPWAY_KUBECONFIG=", "GITHUB_RUN_ID=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for get(t, "apps/v1 Deployment", ns, "stuck") == nil || get(t, "v1 ConfigMap", ns, "b") == nil {
		select {
		case err := <-exited:
			t.Fatalf("slipway apply exited (%v) before it was killed:\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("slipway apply created nothing in 60s:\n%s", out.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	t.Logf("slipway apply, killed:\n%s", out.String())
	pid := cmd.Process.Pid

	// The dead run still holds the lock.
	lease := &coordinationv1.Lease{}
	if err := kube.Client.Get(t.Context(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: "lock-" + deploy.ClusterPathLabel(e.Path)}, lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h == nil || !strings.HasSuffix(*h, "/pid-"+strconv.Itoa(pid)) {
		t.Fatalf("lock holder %v, want the killed run (pid %d)", h, pid)
	}
	// Everything the dead run created is tracked.
	for id := range members(t, ns) {
		if !containsID(e, "app", id) {
			t.Errorf("%s exists but is not in the inventory after the kill", id)
		}
	}

	// Change the repository: a goes, c comes, the Deployment is fixed.
	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "b.yaml", "c.yaml", "stuck.yaml"),
		app + "/a.yaml":             "",
		app + "/c.yaml":             deploytest.ConfigMapYAML(ns, "c", nil),
		app + "/stuck.yaml":         deploytest.DeploymentYAML(ns, "stuck", "stuck"),
	})
	o := e.Options()
	o.Wait = true
	start := time.Now()
	cd := e.Deploy(o)
	e.MustSucceed(cd)
	if w := e.Events.Matching("waiting for the lock held by"); len(w) != 1 || !strings.Contains(w[0].Message, "/pid-"+strconv.Itoa(pid)) {
		t.Errorf("lock events %v, want one naming the killed run", w)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("rerun took %s; the dead run's lock should expire after 3s", took)
	}
	got := actions(e.kd(cd, "app"))
	if got["ConfigMap/"+ns+"/a"] != result.ActionDeleted || got["ConfigMap/"+ns+"/c"] != result.ActionCreated {
		t.Errorf("changes %v: want a deleted, c created", got)
	}
	if !gone(t, "v1 ConfigMap", ns, "a") {
		t.Errorf("ConfigMap a, created by the killed run and removed since, was not pruned")
	}
	mustGet(t, "v1 ConfigMap", ns, "b")
	mustGet(t, "v1 ConfigMap", ns, "c")
	mustGet(t, "v1 ConfigMap", ns, "unrelated")
	mustGet(t, "apps/v1 Deployment", ns, "stuck")
	e.wantInventory("app", "Namespace/"+ns, "ConfigMap/"+ns+"/b", "ConfigMap/"+ns+"/c", "Deployment/"+ns+"/stuck")
	id := deploy.ApplySetID(e.Ref("app"))
	for obj, owner := range members(t, ns) {
		if owner == id && !containsID(e, "app", obj) {
			t.Errorf("%s carries our ApplySet label but is not tracked", obj)
		}
	}
	if h := getLease(t, e.Path).Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("lock still held by %s", *h)
	}
}

// TestInterruptedAfterApply stops a run right after it applied (before prune
// and the final inventory write) and checks the inventory recorded before
// applying tracks both the old and the new objects, so the next run prunes
// what the interrupted one could not.
func TestInterruptedAfterApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "interrupted")
	ns := e.ID
	app := "apps/" + e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":        e.Kustomization("app", app),
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "old.yaml"),
		app + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		app + "/old.yaml":           deploytest.ConfigMapYAML(ns, "old", nil),
	})
	e.MustSucceed(e.Deploy(e.Options()))

	// v2 replaces old by new; the run is cancelled once new is applied.
	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "new.yaml"),
		app + "/old.yaml":           "",
		app + "/new.yaml":           deploytest.ConfigMapYAML(ns, "new", nil),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := e.Options()
	o.Observer = func(ev deploy.Event) {
		e.Events.Observe(ev)
		if strings.Contains(ev.Message, "ConfigMap/"+ns+"/new created") {
			cancel()
		}
	}
	cd := e.DeployBuild(ctx, o, e.Build())
	if !cd.Failed() {
		t.Fatalf("the interrupted run did not fail")
	}
	mustGet(t, "v1 ConfigMap", ns, "new")
	if gone(t, "v1 ConfigMap", ns, "old") {
		t.Skip("the run was not interrupted before pruning; nothing to check")
	}
	e.wantInventory("app", "Namespace/"+ns, "ConfigMap/"+ns+"/old", "ConfigMap/"+ns+"/new")

	// v3: neither old nor new.
	e.Write(map[string]string{
		app + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "newer.yaml"),
		app + "/new.yaml":           "",
		app + "/newer.yaml":         deploytest.ConfigMapYAML(ns, "newer", nil),
	})
	cd = e.Deploy(e.Options())
	e.MustSucceed(cd)
	e.wantActions(e.kd(cd, "app"), map[string]result.Action{
		"Namespace/" + ns:            result.ActionUnchanged,
		"ConfigMap/" + ns + "/old":   result.ActionDeleted,
		"ConfigMap/" + ns + "/new":   result.ActionDeleted,
		"ConfigMap/" + ns + "/newer": result.ActionCreated,
	})
	for _, n := range []string{"old", "new"} {
		if !gone(t, "v1 ConfigMap", ns, n) {
			t.Errorf("ConfigMap %s not pruned", n)
		}
	}
	e.wantInventory("app", "Namespace/"+ns, "ConfigMap/"+ns+"/newer")
}

func getLease(t *testing.T, path string) *coordinationv1.Lease {
	t.Helper()
	lease := &coordinationv1.Lease{}
	if err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: "lock-" + deploy.ClusterPathLabel(path)}, lease); err != nil {
		t.Fatal(err)
	}
	return lease
}

func containsID(e *env, ks, id string) bool {
	_, ids := e.Inventory(ks)
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
