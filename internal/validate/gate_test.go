package validate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/validate"
)

func TestGate(t *testing.T) {
	bad := result.KustomizationRef{Namespace: "flux-system", Name: "bad"}
	good := result.KustomizationRef{Namespace: "flux-system", Name: "good"}
	failed := result.KustomizationRef{Namespace: "flux-system", Name: "failed"}
	buildErr := errors.New("kustomize: boom")
	obj := result.ObjectID{Kind: "Deployment", Namespace: "web", Name: "web"}
	cb := &result.ClusterBuild{
		Kustomizations: []*result.KustomizationBuild{{Ref: bad}, {Ref: good}, {Ref: failed, Err: buildErr}},
		Findings: []result.Finding{
			{Severity: result.SeverityError, Check: "schema", Kustomization: &bad, Object: &obj, Origin: result.Origin{File: "apps/web.yaml", Line: 3}, Message: `unknown field "spec.replcas"`},
			{Severity: result.SeverityWarning, Check: "schema", Kustomization: &good, Message: "no schema for Widget"},
			{Severity: result.SeverityError, Check: "build", Kustomization: &failed, Message: "kustomize: boom"},
			{Severity: result.SeverityError, Check: "dependsOn", Message: "cycle"},
		},
	}
	unowned := validate.Gate(cb)
	if len(unowned) != 1 || unowned[0].Message != "cycle" {
		t.Errorf("unowned %v, want the cycle", unowned)
	}
	var ie *validate.InvalidError
	if !errors.As(cb.Kustomizations[0].Err, &ie) || !strings.Contains(ie.Error(), `apps/web.yaml:3: Deployment/web/web: unknown field "spec.replcas"`) {
		t.Errorf("bad: %v", cb.Kustomizations[0].Err)
	}
	if cb.Kustomizations[1].Err != nil {
		t.Errorf("a warning blocked good: %v", cb.Kustomizations[1].Err)
	}
	if cb.Kustomizations[2].Err != buildErr {
		t.Errorf("the build error of failed was replaced: %v", cb.Kustomizations[2].Err)
	}
}

// The result both front ends record for a path Gate stops: failed, with
// the reason kept as a value and the first finding in the message.
func TestNotDeployed(t *testing.T) {
	cd := validate.NotDeployed("clusters/prod", []result.Finding{{Severity: result.SeverityError, Message: "cycle"}, {Severity: result.SeverityError, Message: "other"}})
	var re *result.ReasonError
	if cd.Path != "clusters/prod" || !cd.Failed() || cd.Reason != result.ReasonValidationFailed || !errors.As(cd.Err, &re) || re.Reason != result.ReasonValidationFailed {
		t.Errorf("%+v", cd)
	}
	if cd.Error != "not deployed: 2 validation error(s) outside any Kustomization, the first: cycle" {
		t.Errorf("error %q", cd.Error)
	}
}
