package result_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestReasonTravelsWithTheError(t *testing.T) {
	base := errors.New("connection refused")
	err := fmt.Errorf("writing inventory: %w", result.Because(result.ReasonInventoryFailed, base))
	if got := result.ReasonOf(err, result.ReasonApplyFailed); got != result.ReasonInventoryFailed {
		t.Errorf("ReasonOf = %s, want the wrapped InventoryFailed", got)
	}
	if !errors.Is(err, base) {
		t.Error("Because hides the error it wraps")
	}
	if got := result.ReasonOf(base, result.ReasonApplyFailed); got != result.ReasonApplyFailed {
		t.Errorf("no reason: %s, want the default", got)
	}
	if result.Because(result.ReasonApplyFailed, nil) != nil {
		t.Error("Because(nil) is not nil")
	}
	// Flux's words where Flux has them.
	if result.ReasonDependencyNotReady != "DependencyNotReady" || result.ReasonHealthCheckFailed != "HealthCheckFailed" {
		t.Error("reasons differ from Flux's")
	}
}

func TestFailKeepsValueAndText(t *testing.T) {
	kd := &result.KustomizationDeploy{Status: result.StatusApplied}
	err := errors.New("boom")
	kd.Fail(result.StatusBlocked, result.ReasonDependencyNotReady, err)
	if kd.Status != result.StatusBlocked || kd.Reason != result.ReasonDependencyNotReady || kd.Err != err || kd.Error != "boom" {
		t.Errorf("Fail: %+v", kd)
	}
	cd := &result.ClusterDeploy{}
	cd.Fail(result.ReasonOutOfOrder, errors.New("cluster runs a newer commit"))
	if !cd.OutOfOrder || cd.Failed() {
		t.Error("an out-of-order refusal is not a failure of this commit")
	}
	cd = &result.ClusterDeploy{}
	cd.Fail(result.ReasonLockUnavailable, errors.New("held"))
	if cd.OutOfOrder || !cd.Failed() {
		t.Error("a lock refusal is a failure")
	}
}

// Status results keep the error value and its reason; JSON has both the
// reason and the error's text, as before.
func TestStatusJSONHasReasonAndError(t *testing.T) {
	cs := &result.ClusterStatus{Path: "clusters/a", Err: errors.New("never deployed"), Reason: result.ReasonNotFound,
		Drift: &result.DriftStatus{Drifted: []result.ObjectID{}, Err: errors.New("no revision"), Reason: result.ReasonNotFound}}
	data, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"reason":"NotFound","error":"never deployed"`, `"drift":{"drifted":[],"reason":"NotFound","error":"no revision"}`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s:\n%s", want, data)
		}
	}
	ok, _ := json.Marshal(&result.ClusterStatus{Path: "clusters/b"})
	if strings.Contains(string(ok), "reason") || strings.Contains(string(ok), "error") {
		t.Errorf("a healthy status has a reason or an error: %s", ok)
	}
}
