package deploy_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
)

// TestDriftHelmReleaseObjects: an object a HelmRelease rendered and Helm
// installed, edited by hand, is drift as a Kustomization's object is; an
// untouched release is not.
func TestDriftHelmReleaseObjects(t *testing.T) {
	e := newEnv(t, "helmdrift")
	ns := e.ID
	files := map[string]string{
		e.Path + "/apps.yaml":                  e.Kustomization("apps", "apps-"+e.ID),
		"apps-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "first.yaml"),
		"apps-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		"apps-" + e.ID + "/first.yaml":         deploytest.HelmReleaseYAML(ns, "first", "values:", "  message: from Git"),
	}
	for k, v := range deploytest.HelloChart {
		files[k] = v
	}
	e.Write(files)
	applied := e.BuildHelm(false)
	e.MustSucceed(e.DeployBuild(context.Background(), e.Options(), applied))

	d := deploy.New(kube, e.Options())
	drifted := func() []result.ObjectID {
		t.Helper()
		st, err := d.Drift(t.Context(), applied)
		if err != nil {
			t.Fatal(err)
		}
		res, err := diff.Compare([]*result.ClusterBuild{st.Desired}, []*result.ClusterBuild{st.Live}, diff.Options{Base: "base", Head: "cluster"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []result.ObjectID
		for _, kd := range res.Clusters[0].Kustomizations {
			for _, rd := range kd.Releases {
				for _, od := range rd.Objects {
					if od.Action != diff.Unchanged {
						ids = append(ids, od.ID)
					}
				}
			}
		}
		return ids
	}
	if ids := drifted(); len(ids) != 0 {
		t.Fatalf("before any edit, release objects drifted: %v", ids)
	}
	cm, ok := e.ConfigMap(ns, "first")
	if !ok {
		t.Fatal("the release did not create its ConfigMap")
	}
	cm.Data["message"] = "edited-by-hand"
	if err := kube.Client.Update(t.Context(), cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	if ids := drifted(); len(ids) != 1 || ids[0] != (result.ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "first"}) {
		t.Errorf("the hand-edited release object is not the one drifted: %v", ids)
	}
}
