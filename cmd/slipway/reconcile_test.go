package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

// reconcile's exit codes: a failure wins, then a refused (newer) commit,
// then drift found in --drift-only mode, the "changes found" code; drift a
// reconcile reverted is success.
func TestReconcileExit(t *testing.T) {
	drifted := &result.ClusterDeploy{Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusApplied, Changes: []result.Change{{Action: result.ActionConfigured}}}}}
	clean := &result.ClusterDeploy{Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusApplied, Changes: []result.Change{{Action: result.ActionUnchanged}}}}}
	failed := &result.PathReconcile{Path: "clusters/b"}
	failed.Fail(errors.New("commit not in the local repository"))
	for _, tc := range []struct {
		name      string
		driftOnly bool
		paths     []*result.PathReconcile
		want      int
	}{
		{"clean", true, []*result.PathReconcile{{Deploy: clean}}, exitOK},
		{"drift reverted", false, []*result.PathReconcile{{Deploy: drifted}}, exitOK},
		{"drift found", true, []*result.PathReconcile{{Deploy: clean}, {Deploy: drifted}}, exitChanges},
		{"failure wins over drift", true, []*result.PathReconcile{{Deploy: drifted}, failed}, exitFailed},
		{"newer commit deployed", false, []*result.PathReconcile{{Deploy: &result.ClusterDeploy{OutOfOrder: true, Error: "newer"}}}, exitOutOfOrder},
	} {
		err := reconcileExit(&result.Reconcile{DriftOnly: tc.driftOnly, Paths: tc.paths})
		got := exitOK
		var ee *exitError
		if errors.As(err, &ee) {
			got = ee.code
		}
		if got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReconcileBadInvocations(t *testing.T) {
	repo, _ := fleet(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"reconcile", "--repo", repo, "-o", "yaml"}, "want text or json"},
		{[]string{"reconcile", "--repo", repo, "--lock-ttl", "10ms"}, "want at least 1s"},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.err, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q (want %d, %q)", tc.args, r.code, r.err, exitUsage, tc.msg)
		}
	}
}
