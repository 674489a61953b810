package reconcile

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

func TestSelectTarget(t *testing.T) {
	head := strings.Repeat("c", 40)
	recorded := strings.Repeat("b", 40)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	present := func(string) error { return nil }
	missing := func(c string) error {
		return &source.RevisionError{Repo: "/ws", Revision: c, Err: errors.New("object not found")}
	}
	for _, tc := range []struct {
		name   string
		rec    deploy.Record
		open   func(string) error
		target string
		reason result.TargetReason
		err    string
	}{
		{"nothing recorded", deploy.Record{}, present, head, result.TargetNoRecord, ""},
		{"runs the head", deploy.Record{Revision: head, At: at, Outcome: "succeeded"}, present, head, result.TargetCheckout, ""},
		{"recorded older", deploy.Record{Revision: recorded, At: at, Outcome: "succeeded"}, present, recorded, result.TargetRecorded, ""},
		// A commit the checkout lacks is never replaced by another.
		{"recorded missing", deploy.Record{Revision: recorded, At: at}, missing, "", result.TargetRecorded, "commit bbbbbbbbbbbb is not in the local repository (object not found); check out the full history (actions/checkout with fetch-depth: 0)"},
	} {
		got := selectTarget(tc.rec, head, tc.open)
		if got.Commit != tc.target || got.Reason != tc.reason || (tc.err == "") != (got.Err == nil) || (got.Err != nil && !strings.Contains(got.Err.Error(), tc.err)) {
			t.Errorf("%s: %+v", tc.name, got)
		}
		var mc *MissingCommitError
		if tc.err != "" && (!errors.As(got.Err, &mc) || mc.Commit != recorded) {
			t.Errorf("%s: error %v is not a MissingCommitError of the recorded commit", tc.name, got.Err)
		}
		if tc.rec.Revision != "" && (got.Recorded == nil || got.Recorded.Revision != tc.rec.Revision || !got.Recorded.At.Equal(at)) {
			t.Errorf("%s: the record is not kept: %+v", tc.name, got.Recorded)
		}
	}
}

// Resolve without a cluster: an explicit revision and --to-head need no
// record; the revision's tree is opened from the Git objects, and a
// directory that is not a Git checkout fails every path.
func TestResolveWithoutRecords(t *testing.T) {
	g := testutil.NewGitRepo(t, t.TempDir(), "https://example.invalid/fleet.git")
	g.Write("clusters/a/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: default\n")
	first := g.Commit("one").String()
	g.Write("clusters/a/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n  namespace: default\n")
	head := g.Commit("two").String()
	checkout, err := source.OpenWorktree(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	paths := []string{"clusters/a"}

	toHead := Resolve(ctx, TargetOptions{Checkout: checkout, Paths: paths, ToHead: true})
	defer toHead.Close()
	if rt := toHead.ByPath["clusters/a"]; toHead.Head != head || rt.Commit != head || rt.Reason != result.TargetHead || !toHead.FromCheckout("clusters/a") || toHead.Other("clusters/a") != "" {
		t.Errorf("to head: %+v %+v", toHead, rt)
	}

	rev := Resolve(ctx, TargetOptions{Checkout: checkout, Paths: paths, Revision: first})
	defer rev.Close()
	if rev.Other("clusters/a") != first || rev.FromCheckout("clusters/a") {
		t.Fatalf("revision: %+v", rev.ByPath)
	}
	builds, err := rev.Build(ctx, build.RunOptions{Options: build.DefaultOptions(checkout)})
	if err != nil || len(builds) != 1 {
		t.Fatalf("building the revision: %v %v", builds, err)
	}
	var names []string
	for _, kb := range builds[0].Kustomizations {
		for _, o := range kb.Objects {
			names = append(names, o.Object.GetName())
		}
	}
	if strings.Join(names, ",") != "one" {
		t.Errorf("the revision was not built from its own tree (the worktree holds 'two'): %v", names)
	}

	missing := Resolve(ctx, TargetOptions{Checkout: checkout, Paths: paths, Revision: strings.Repeat("d", 40)})
	var mc *MissingCommitError
	if err := missing.ByPath["clusters/a"].Err; !errors.As(err, &mc) {
		t.Errorf("a missing revision: %v", err)
	}

	plain, err := source.OpenWorktree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var nc *NotCheckoutError
	if err := Resolve(ctx, TargetOptions{Checkout: plain, Paths: paths, ToHead: true}).ByPath["clusters/a"].Err; !errors.As(err, &nc) {
		t.Errorf("not a Git checkout: %v", err)
	}
	if err := Resolve(ctx, TargetOptions{Checkout: checkout, Paths: paths}).ByPath["clusters/a"].Err; err == nil {
		t.Errorf("no cluster and no revision: no error")
	}
}

// A repository below a checkout's root (a fleet kept in a subdirectory):
// the checkout's commit is known, as apply records it, and can be
// reconciled; another commit cannot be built for the subdirectory and
// says why instead of claiming there is no checkout or no commit.
func TestResolveBelowCheckoutRoot(t *testing.T) {
	g := testutil.NewGitRepo(t, t.TempDir(), "https://example.invalid/mono.git")
	g.Write("fleet/clusters/a/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: default\n")
	first := g.Commit("one").String()
	g.Write("fleet/clusters/a/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n  namespace: default\n")
	head := g.Commit("two").String()
	sub, err := source.OpenWorktree(filepath.Join(g.Dir, "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	paths := []string{"clusters/a"}

	toHead := Resolve(ctx, TargetOptions{Checkout: sub, Paths: paths, ToHead: true})
	defer toHead.Close()
	if rt := toHead.ByPath["clusters/a"]; toHead.Head != head || rt.Err != nil || !toHead.FromCheckout("clusters/a") {
		t.Errorf("to head below the root: head %s, %+v", toHead.Head, rt)
	}
	var nr *NotRootError
	if err := Resolve(ctx, TargetOptions{Checkout: sub, Paths: paths, Revision: first}).ByPath["clusters/a"].Err; !errors.As(err, &nr) || !strings.Contains(err.Error(), "below its Git checkout's root") {
		t.Errorf("another commit below the root: %v", err)
	}
	rt := selectTarget(deploy.Record{Revision: first}, head, func(c string) error { return &NotRootError{Dir: sub.Root, Commit: c} })
	if !errors.As(rt.Err, &nr) {
		t.Errorf("a recorded commit below the root: %v, want NotRootError", rt.Err)
	}
}
