package result

import (
	"errors"
	"testing"
)

// Drift is what a reconcile changed (or would change), or a Helm release
// object that differed from its manifest; a failed path is failed whatever
// its deploy says.
func TestReconcileDriftedAndFailed(t *testing.T) {
	changed := &ClusterDeploy{Kustomizations: []*KustomizationDeploy{{Status: StatusApplied, Changes: []Change{{Action: ActionUnchanged}, {Action: ActionConfigured}}}}}
	unchanged := &ClusterDeploy{Kustomizations: []*KustomizationDeploy{{Status: StatusApplied, Changes: []Change{{Action: ActionUnchanged}}}}}
	release := &ClusterDeploy{Kustomizations: []*KustomizationDeploy{{Status: StatusApplied, Releases: []*ReleaseDeploy{{Action: ReleaseUnchanged, Drift: []ObjectID{{Kind: "ConfigMap", Name: "x"}}}}}}}
	failedDeploy := &ClusterDeploy{Kustomizations: []*KustomizationDeploy{{Status: StatusFailed}}}
	notFound := &PathReconcile{Path: "p"}
	notFound.Fail(errors.New("commit missing"))
	for _, tc := range []struct {
		name            string
		p               *PathReconcile
		drifted, failed bool
	}{
		{"not deployed", &PathReconcile{}, false, false},
		{"unchanged", &PathReconcile{Deploy: unchanged}, false, false},
		{"changed", &PathReconcile{Deploy: changed}, true, false},
		{"release object drifted", &PathReconcile{Deploy: release}, true, false},
		{"deploy failed", &PathReconcile{Deploy: failedDeploy}, false, true},
		{"target missing", notFound, false, true},
	} {
		if got := tc.p.Drifted(); got != tc.drifted {
			t.Errorf("%s: drifted %v", tc.name, got)
		}
		if got := tc.p.Failed(); got != tc.failed {
			t.Errorf("%s: failed %v", tc.name, got)
		}
		r := &Reconcile{Paths: []*PathReconcile{{Deploy: unchanged}, tc.p}}
		if r.Drifted() != tc.drifted || r.Failed() != tc.failed {
			t.Errorf("%s: reconcile drifted %v failed %v", tc.name, r.Drifted(), r.Failed())
		}
	}
	if notFound.Error != "commit missing" {
		t.Errorf("Fail does not keep the text for JSON: %q", notFound.Error)
	}
}
