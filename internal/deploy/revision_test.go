package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// commitAll commits the test repository as it is and returns the commit.
func (e *env) commitAll(g *git.Repository, msg string) string {
	e.T.Helper()
	wt, err := g.Worktree()
	if err != nil {
		e.T.Fatal(err)
	}
	if err := wt.AddGlob("."); err != nil {
		e.T.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}})
	if err != nil {
		e.T.Fatal(err)
	}
	return h.String()
}

// Two runs of different commits: the one that gets the lock last must not
// roll the cluster back. The deployed commit is recorded in the lock's
// Lease; an older commit is refused (nothing applied) unless it is an
// explicit rollback.
func TestOutOfOrderDeployRefused(t *testing.T) {
	e := newEnv(t, "ooo")
	ns := e.ID
	e.Write(map[string]string{
		e.Path + "/apps.yaml":                  e.Kustomization("apps", "apps-"+e.ID),
		"apps-" + e.ID + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "cm.yaml"),
		"apps-" + e.ID + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		"apps-" + e.ID + "/cm.yaml":            deploytest.ConfigMapYAML(ns, "settings", map[string]string{"version": "1"}),
	})
	g, err := git.PlainInit(e.Dir, false)
	if err != nil {
		t.Fatal(err)
	}
	older := e.commitAll(g, "version 1")
	olderBuild := e.Build()
	e.Write(map[string]string{"apps-" + e.ID + "/cm.yaml": deploytest.ConfigMapYAML(ns, "settings", map[string]string{"version": "2"})})
	newer := e.commitAll(g, "version 2")
	newerBuild := e.Build()

	opts := func(commit string, rollback bool) deploy.Options {
		o := e.Options()
		o.Version = "test"
		o.Revision = deploy.Revision{Commit: commit, Ancestry: source.NewAncestry(e.Dir), Rollback: rollback}
		return o
	}
	e.MustSucceed(e.DeployBuild(context.Background(), opts(newer, false), newerBuild))
	lease := &coordinationv1.Lease{}
	if err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: "lock-" + deploy.ClusterPathLabel(e.Path)}, lease); err != nil {
		t.Fatal(err)
	}
	if a := lease.Annotations; a[deploy.AnnotationDeployedRevision] != newer || a[deploy.AnnotationDeployedOutcome] != deploy.OutcomeSucceeded || a[deploy.AnnotationDeployedBy] != "test/"+e.ID {
		t.Errorf("lease record: %v", a)
	}

	// The slow run of the older commit gets the lock afterwards.
	cd := e.DeployBuild(context.Background(), opts(older, false), olderBuild)
	if !cd.OutOfOrder || cd.Reason != result.ReasonOutOfOrder || cd.Failed() || !strings.Contains(cd.Error, "already runs "+newer[:12]) {
		t.Fatalf("older commit: outOfOrder %v failed %v error %q", cd.OutOfOrder, cd.Failed(), cd.Error)
	}
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "settings"), "version"); got != "2" {
		t.Fatalf("an out-of-order deploy rolled the ConfigMap back to version %s", got)
	}

	// An explicit rollback goes through and is recorded.
	e.MustSucceed(e.DeployBuild(context.Background(), opts(older, true), olderBuild))
	if got := cmData(t, mustGet(t, "v1 ConfigMap", ns, "settings"), "version"); got != "1" {
		t.Errorf("rollback: version %s, want 1", got)
	}
	if err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: "lock-" + deploy.ClusterPathLabel(e.Path)}, lease); err != nil {
		t.Fatal(err)
	}
	if lease.Annotations[deploy.AnnotationDeployedRevision] != older {
		t.Errorf("rollback not recorded: %v", lease.Annotations)
	}
	// After a rollback the newer commit deploys again (it is not older).
	e.MustSucceed(e.DeployBuild(context.Background(), opts(newer, false), newerBuild))
}
