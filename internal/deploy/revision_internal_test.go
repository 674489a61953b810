package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// history is a straight line of commits a ← b ← c, plus x on another
// branch, and "gone" that the local history lacks.
type history map[string][]string // commit → its ancestors

func (h history) IsAncestor(older, newer string) (bool, error) {
	anc, ok := h[newer]
	if _, known := h[older]; !ok || !known {
		return false, errors.New("object not found")
	}
	for _, a := range anc {
		if a == older {
			return true, nil
		}
	}
	return false, nil
}

func TestCheckOrder(t *testing.T) {
	h := history{"a": nil, "b": {"a"}, "c": {"a", "b"}, "x": {"a"}}
	deployed := Record{Revision: "b", At: time.Unix(0, 0), By: "run 1"}
	for _, tc := range []struct {
		name      string
		rev       Revision
		refused   bool
		warnsWith string
	}{
		{"newer commit", Revision{Commit: "c", Ancestry: h}, false, ""},
		{"same commit again", Revision{Commit: "b", Ancestry: h}, false, ""},
		{"older commit", Revision{Commit: "a", Ancestry: h}, true, ""},
		{"older commit, explicit rollback", Revision{Commit: "a", Ancestry: h, Rollback: true}, false, ""},
		{"another branch", Revision{Commit: "x", Ancestry: h}, false, ""},
		{"unknown history", Revision{Commit: "gone", Ancestry: h}, false, "cannot tell"},
		{"no commit (not a Git repository)", Revision{Ancestry: h}, false, ""},
		{"no ancestry", Revision{Commit: "a"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warning, err := checkOrder("clusters/prod", deployed, tc.rev)
			var ooo *OutOfOrderError
			if got := errors.As(err, &ooo); got != tc.refused {
				t.Fatalf("refused %v (%v), want %v", got, err, tc.refused)
			}
			if tc.refused && (!strings.Contains(err.Error(), "already runs b") || !strings.Contains(err.Error(), "run 1")) {
				t.Errorf("message: %v", err)
			}
			if !strings.Contains(warning, tc.warnsWith) || (tc.warnsWith == "" && warning != "") {
				t.Errorf("warning %q, want %q", warning, tc.warnsWith)
			}
		})
	}
	// Nothing recorded yet: any commit goes.
	if _, err := checkOrder("clusters/prod", Record{}, Revision{Commit: "a", Ancestry: h}); err != nil {
		t.Error(err)
	}
}

func TestRecordAnnotations(t *testing.T) {
	r := Record{Revision: "abc", At: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC), By: "https://github.example/acme/fleet/actions/runs/42", Version: "v1.2.3", Outcome: OutcomeFailed}
	ann := map[string]string{"other": "kept"}
	r.annotate(ann)
	if back := recordFrom(ann); back != r || ann["other"] != "kept" {
		t.Errorf("round trip: %+v, annotations %v", back, ann)
	}
}
