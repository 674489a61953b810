package report_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// A deploy that applied one Kustomization and not another says which and
// why, and repository text cannot break the table.
func TestChangeTable(t *testing.T) {
	cd := &result.ClusterDeploy{Kustomizations: []*result.KustomizationDeploy{
		{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Status: result.StatusApplied, Changes: []result.Change{
			{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "x|y"}, Action: result.ActionCreated},
			{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "z"}, Action: result.ActionUnchanged},
		}},
		{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "db"}, Status: result.StatusBlocked, Error: "dependency\nflux-system/infra failed"},
	}}
	got := report.ChangeTable(cd)
	for _, want := range []string{
		"Kustomizations: 1 applied, 1 blocked.",
		"| flux-system/db | blocked | dependency flux-system/infra failed |",
		`| flux-system/apps | ConfigMap/a/x\|y | created |`,
		"1 object(s) unchanged.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("change table lacks %q:\n%s", want, got)
		}
	}
}
