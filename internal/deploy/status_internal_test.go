package deploy

import (
	"reflect"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestStatusPaths(t *testing.T) {
	leases := map[string]*coordinationv1.Lease{"clusters/b": {}, "clusters/a": {}}
	invs := map[string][]*Inventory{"clusters/c": nil, "clusters/a": nil}
	if got, want := statusPaths(nil, leases, invs), []string{"clusters/a", "clusters/b", "clusters/c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("every path: %v, want %v", got, want)
	}
	if got, want := statusPaths([]string{"clusters/z"}, leases, invs), []string{"clusters/z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("asked for: %v, want %v", got, want)
	}
}

// A lock is held while its holder renews it; one not renewed within its
// duration belongs to a run that died and is not "deploying now".
func TestActiveHolder(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(holder string, renewedAgo time.Duration) *coordinationv1.Lease {
		secs := int32(60)
		renew := metav1.NewMicroTime(now.Add(-renewedAgo))
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &renew}}
	}
	for _, tc := range []struct {
		name  string
		lease *coordinationv1.Lease
		want  string
	}{
		{"renewed", lease("run-1", 10*time.Second), "run-1"},
		{"expired", lease("run-1", 61*time.Second), ""},
		{"released", lease("", time.Second), ""},
		{"never held", &coordinationv1.Lease{}, ""},
	} {
		if got := activeHolder(tc.lease, now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDeployRecord(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ann := map[string]string{}
	Record{Revision: "abc", At: at, By: "run", Version: "v1", Outcome: OutcomeFailed}.annotate(ann)
	got := deployRecord(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Annotations: ann}})
	want := &result.DeployRecord{Revision: "abc", At: at, By: "run", Version: "v1", Outcome: "failed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%+v, want %+v", got, want)
	}
	if got.Succeeded() {
		t.Error("a failed deploy reads as succeeded")
	}
	// The first deploy still runs (or died): the Lease records nothing.
	if got := deployRecord(&coordinationv1.Lease{}); got != nil {
		t.Errorf("no annotations: %+v, want nil", got)
	}
}

func TestHealthOf(t *testing.T) {
	for s, want := range map[status.Status]result.Health{
		status.CurrentStatus:     result.HealthCurrent,
		status.InProgressStatus:  result.HealthInProgress,
		status.TerminatingStatus: result.HealthInProgress,
		status.FailedStatus:      result.HealthFailed,
		status.NotFoundStatus:    result.HealthNotFound,
		status.UnknownStatus:     result.HealthUnknown,
	} {
		if got := healthOf(s); got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
}
