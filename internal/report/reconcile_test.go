package report_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// A reconcile's text names, per path, the target and why, each drifted
// field, and whether it was reverted; Secret values never appear.
func TestReconcileText(t *testing.T) {
	head := strings.Repeat("c", 40)
	b := strings.Repeat("b", 40)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cm := result.ObjectID{Kind: "ConfigMap", Namespace: "app", Name: "settings"}
	sec := result.ObjectID{Kind: "Secret", Namespace: "app", Name: "db"}
	cd := &result.ClusterDeploy{Path: "clusters/a", Kustomizations: []*result.KustomizationDeploy{{Status: result.StatusApplied, Changes: []result.Change{
		{ID: cm, Action: result.ActionConfigured}, {ID: sec, Action: result.ActionConfigured, Message: "password s3cret"}}}}}
	drift := map[string]*result.ObjectDrift{
		cm.InventoryKey():  {ID: cm, Fields: []result.FieldDrift{{Path: "data.version", Live: "edited", Want: "B"}}},
		sec.InventoryKey(): {ID: sec, Fields: []result.FieldDrift{{Path: "data.password"}}},
	}
	res := &result.Reconcile{Head: head, Paths: []*result.PathReconcile{
		{Path: "clusters/a", Target: result.ReconcileTarget{Commit: b, Reason: result.TargetRecorded, Recorded: &result.DeployRecord{Revision: b, At: at, Outcome: "succeeded"}}, Deploy: cd, Drift: drift},
		{Path: "clusters/b", Target: result.ReconcileTarget{Reason: result.TargetRecorded, Recorded: &result.DeployRecord{Revision: b}, Err: errors.New("commit bbbb is not in the local repository")}},
		{Path: "clusters/c", Target: result.ReconcileTarget{Reason: result.TargetRecorded, Err: errors.New("reading the deploy record: forbidden")}},
	}}
	res.Paths[1].Fail(res.Paths[1].Target.Err)
	res.Paths[2].Fail(res.Paths[2].Target.Err)
	var out strings.Builder
	if err := report.ReconcileText(&out, res, report.NewMasker([]string{"s3cret"})); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"✔ clusters/a: target bbbbbbbbbbbb, recorded as deployed (2026-12-01T10:00:00Z, succeeded); the checkout is cccccccccccc",
		`drifted: ConfigMap/app/settings data.version: "edited" in the cluster, "B" in Git`,
		"drifted: Secret/app/db data.password: changed (value not shown)",
		"reverted",
		"✗ clusters/b: target the recorded revision",
		"not reconciled: commit bbbb is not in the local repository",
		"✗ clusters/c: target unknown\n  not reconciled: reading the deploy record: forbidden",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("text lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("a secret value is shown:\n%s", got)
	}
	res.DriftOnly = true
	md := report.DriftMarkdown(cd, drift, true)
	if !strings.Contains(md, "| ConfigMap/app/settings | `data.version` | `edited` | `B` |") || !strings.Contains(md, "| Secret/app/db | `data.password` | (changed; value not shown) |  |") || !strings.Contains(md, "not changed (drift mode)") {
		t.Errorf("drift markdown:\n%s", md)
	}
	if report.DriftMarkdown(&result.ClusterDeploy{}, nil, false) != "" {
		t.Errorf("drift markdown without drift is not empty")
	}
}

func TestTargetNoteMarkdown(t *testing.T) {
	head := strings.Repeat("c", 40)
	b := strings.Repeat("b", 40)
	rec := &result.DeployRecord{Revision: b, At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Outcome: "succeeded"}
	for _, tc := range []struct {
		t    result.ReconcileTarget
		want string
	}{
		{result.ReconcileTarget{Commit: head, Reason: result.TargetNoRecord}, "`clusters/a`: no deploy recorded on the cluster yet: deploying the checkout cccccccccccc."},
		{result.ReconcileTarget{Commit: b, Reason: result.TargetRecorded, Recorded: rec}, "`clusters/a`: reconciling to the recorded revision bbbbbbbbbbbb (deployed 2026-12-01T10:00:00Z, succeeded), not the checkout cccccccccccc (reconcile-to: head would deploy the checkout)."},
		{result.ReconcileTarget{Reason: result.TargetRecorded, Recorded: rec, Err: errors.New("commit b is missing")}, "`clusters/a`: not deployed: commit b is missing"},
		{result.ReconcileTarget{Reason: result.TargetRecorded, Err: errors.New("reading the record: forbidden")}, ""},
		{result.ReconcileTarget{Commit: head, Reason: result.TargetHead}, ""},
	} {
		if got := report.TargetNoteMarkdown("clusters/a", tc.t, head); got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.t, got, tc.want)
		}
	}
}
