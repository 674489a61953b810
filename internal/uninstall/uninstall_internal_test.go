package uninstall

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/deploy"
)

func TestSplitSystemGoesLast(t *testing.T) {
	app := object("app")
	deployer := object("deployer")
	deployer.SetLabels(map[string]string{deploy.LabelSystem: "true"})
	system, workload := splitSystem([]member{{live: deployer}, {live: app}})
	if len(system) != 1 || system[0].live != deployer || len(workload) != 1 || workload[0].live != app {
		t.Errorf("system %v, workload %v", system, workload)
	}
}

func TestLocksOf(t *testing.T) {
	lease := func(name string) coordinationv1.Lease {
		return coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	prod, staging := "lock-"+deploy.ClusterPathLabel("clusters/prod"), "lock-"+deploy.ClusterPathLabel("clusters/staging")
	all := []coordinationv1.Lease{lease(prod), lease(staging), lease("kube-something")}
	if got := locksOf(all, nil); len(got) != 2 {
		t.Errorf("every path: %d locks, want the two cluster-path locks", len(got))
	}
	got := locksOf(all, []string{"clusters/prod"})
	if len(got) != 1 || got[0].Name != prod {
		t.Errorf("clusters/prod only: %v", got)
	}
}

// object is a live ConfigMap as members reads it.
func object(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace("default")
	u.SetName(name)
	return u
}
