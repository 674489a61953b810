package clustertest

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// Mode uninstall from a workflow_dispatch: refused without the written
// confirmation, then removes the cluster path's inventories — and, with
// "uninstall --prune", its workloads. It leaves the cluster as it found it,
// so the other tests of the package start clean.
func TestDispatchUninstall(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	f := actiontest.NewFleet(t)
	sha := f.Commit("first")

	run := func(event string, payload map[string]any, env map[string]string) (*actiontest.Runner, int, github.Conclusion) {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, event, payload)
		r.Env["GITHUB_SHA"] = sha
		r.Env["INPUT_KUBECONFIG"] = kubeconfig
		r.Env["INPUT_PATH"] = "clusters/a"
		for k, v := range env {
			r.Env[k] = v
		}
		out := r.Run()
		actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)
		return r, out.ExitCode, out.Result
	}
	if r, code, _ := run("push", map[string]any{"ref": "refs/heads/main", "before": strings.Repeat("0", 40), "after": sha}, nil); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, r.Log.String())
	}

	// Not from a push, and not without the written confirmation.
	if r, code, _ := run("push", map[string]any{"ref": "refs/heads/main", "before": sha, "after": sha}, map[string]string{"INPUT_MODE": "uninstall", "INPUT_CONFIRM": "uninstall"}); code == 0 || !strings.Contains(r.Log.String(), "only from workflow_dispatch") {
		t.Errorf("uninstall on push: exit %d\n%s", code, r.Log.String())
	}
	r, code, _ := run("workflow_dispatch", map[string]any{}, map[string]string{"INPUT_MODE": "uninstall", "INPUT_PRUNE": "true"})
	if code == 0 || !strings.Contains(r.Log.String(), `"uninstall --prune"`) {
		t.Errorf("uninstall without confirm: exit %d\n%s", code, r.Log.String())
	}
	ctx := context.Background()
	cluster, err := connect(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: "app-a", Name: "settings"}, cm); err != nil {
		t.Fatalf("a refused uninstall removed the app: %v", err)
	}

	r, code, res := run("workflow_dispatch", map[string]any{}, map[string]string{"INPUT_MODE": "uninstall", "INPUT_CONFIRM": "uninstall --prune"})
	if code != 0 || res != github.ConclusionSuccess {
		t.Fatalf("uninstall --prune: exit %d %s\n%s", code, res, r.Log.String())
	}
	if !strings.Contains(r.File("summary"), "uninstall finished") {
		t.Errorf("summary does not say the uninstall finished:\n%s", r.File("summary"))
	}
	err = cluster.Client.Get(ctx, client.ObjectKey{Namespace: "app-a", Name: "settings"}, cm)
	if !apierrors.IsNotFound(err) {
		t.Errorf("uninstall --prune left the app's ConfigMap: %v", err)
	}
	list := &corev1.ConfigMapList{}
	if err := cluster.Client.List(ctx, list, client.InNamespace(deploy.SystemNamespace), client.MatchingLabels{deploy.LabelClusterPath: deploy.ClusterPathLabel("clusters/a")}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) > 0 {
		t.Errorf("inventories of clusters/a left after uninstall: %d", len(list.Items))
	}
}

func connect(kubeconfig string) (*cluster.Cluster, error) {
	cfg, err := cluster.RESTConfig(cluster.KubeconfigOptions{Content: kubeconfig}, nil)
	if err != nil {
		return nil, err
	}
	return cluster.Connect(cfg)
}
