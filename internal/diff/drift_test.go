package diff

import (
	"context"
	"errors"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

// A deploy of a directory that is not a Git repository records no
// revision: drift is unknown, and the cluster is never asked.
func TestDriftCheckWithoutRevision(t *testing.T) {
	asked := false
	check := DriftCheck{Drifter: func(context.Context, *result.ClusterBuild) (*result.ClusterBuild, *result.ClusterBuild, error) {
		asked = true
		return nil, nil, nil
	}}
	ds := check.Check(t.Context(), "clusters/x", "")
	if !errors.Is(ds.Err, ErrNoRevision) || asked || len(ds.Drifted) != 0 {
		t.Errorf("err %v, drifter asked %v, drifted %v", ds.Err, asked, ds.Drifted)
	}
}

// Objects that differ are listed, unchanged ones are not; a build error
// leaves drift unknown rather than "none".
func TestDrifted(t *testing.T) {
	cm := result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "b"}
	rendered := result.ObjectID{Kind: "Deployment", Namespace: "a", Name: "chart-web"}
	res := &Result{Clusters: []*ClusterDiff{{Kustomizations: []*KustomizationDiff{{Objects: []*ObjectDiff{
		{ID: cm, Action: Changed}, {ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "same"}, Action: Unchanged},
	}, Releases: []*ReleaseDiff{{Objects: []*ObjectDiff{{ID: rendered, Action: Changed}}}}}}}}}
	ids, err := drifted(res, &result.ClusterBuild{})
	if err != nil || len(ids) != 2 || ids[0] != cm || ids[1] != rendered {
		t.Errorf("drifted %v, err %v", ids, err)
	}
	_, err = drifted(res, &result.ClusterBuild{Findings: []result.Finding{{Severity: result.SeverityError, Message: "kustomize failed"}}})
	if err == nil {
		t.Error("a build error is not an error of the drift check")
	}
}

// Why drift is unknown is a reason as well as an error: no revision is
// NotFound, a build error BuildFailed, a refused dry-run ApplyFailed.
func TestDriftReasons(t *testing.T) {
	ds := DriftCheck{}.Check(t.Context(), "clusters/x", "")
	if ds.Reason != result.ReasonNotFound {
		t.Errorf("no revision: reason %q", ds.Reason)
	}
	_, err := drifted(&Result{}, &result.ClusterBuild{Findings: []result.Finding{{Severity: result.SeverityError, Message: "kustomize failed"}}})
	if got := result.ReasonOf(err, ""); got != result.ReasonBuildFailed {
		t.Errorf("build error: reason %q", got)
	}
	refused := &Result{Clusters: []*ClusterDiff{{Errors: []BuildError{{Revision: "head", Finding: result.Finding{Severity: result.SeverityError, Check: "live", Message: "admission webhook denied"}}}}}}
	_, err = drifted(refused, &result.ClusterBuild{})
	if got := result.ReasonOf(err, ""); got != result.ReasonApplyFailed {
		t.Errorf("refused dry-run: reason %q", got)
	}
}
