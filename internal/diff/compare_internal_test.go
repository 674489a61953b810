package diff

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestPresence(t *testing.T) {
	for _, tt := range []struct {
		base, head bool
		want       Action
	}{{false, true, Added}, {true, false, Removed}, {true, true, Unchanged}} {
		if got := presence(tt.base, tt.head); got != tt.want {
			t.Errorf("presence(%v, %v) = %s, want %s", tt.base, tt.head, got, tt.want)
		}
	}
}

func TestFailure(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") }
	boom, other := errors.New("boom s3cret"), errors.New("other")
	tests := []struct {
		name             string
		baseErr, headErr error
		inHead           bool
		wantMsg          string
		wantFailed       bool
		wantErr          error
	}{
		{"no errors", nil, nil, true, "", false, nil},
		{"head fails, masked", nil, boom, true, "boom ***", true, boom},
		{"same failure on both sides is no change", boom, boom, true, "boom ***", false, boom},
		{"another failure than the base's", other, boom, true, "boom ***", true, boom},
		{"only the base failed", boom, nil, true, "base revision: boom ***", true, boom},
		{"the base failed and the head removed it", boom, nil, false, "", false, nil},
	}
	for _, tt := range tests {
		msg, failed, err := failure(mask, tt.baseErr, tt.headErr, tt.inHead)
		if msg != tt.wantMsg || failed != tt.wantFailed || err != tt.wantErr {
			t.Errorf("%s: failure = %v, %q, %v; want %v, %q, %v", tt.name, err, msg, failed, tt.wantErr, tt.wantMsg, tt.wantFailed)
		}
	}
}

func TestRollUp(t *testing.T) {
	rd := &ReleaseDiff{Action: Unchanged, ValuesChanged: true}
	kd := &KustomizationDiff{Action: Unchanged, Releases: []*ReleaseDiff{rd}}
	quiet := &KustomizationDiff{Action: Unchanged}
	a, b := result.KustomizationRef{Namespace: "flux-system", Name: "a"}, result.KustomizationRef{Namespace: "flux-system", Name: "b"}
	tr := &tree{ks: map[result.KustomizationRef]*KustomizationDiff{a: kd, b: quiet}, order: []result.KustomizationRef{a, b}}
	cd := &ClusterDiff{Action: Unchanged}
	rollUp(cd, tr)
	if rd.Action != Changed || kd.Action != Changed || cd.Action != Changed || quiet.Action != Unchanged {
		t.Errorf("actions: release %s, kustomization %s, quiet %s, cluster %s", rd.Action, kd.Action, quiet.Action, cd.Action)
	}
	if len(cd.Kustomizations) != 2 {
		t.Errorf("cluster has %d Kustomizations, want 2", len(cd.Kustomizations))
	}
}
