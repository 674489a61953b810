package source_test

import (
	"errors"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// TestResolveLocalRef: branches are refs/heads first, then
// refs/remotes/origin; annotated tags peel to their commit; what the
// repository lacks is a *RefNotLocalError, so the caller fetches it.
func TestResolveLocalRef(t *testing.T) {
	g := testutil.NewGitRepo(t, t.TempDir(), "https://example.com/fleet")
	g.Write("a", "1")
	c1 := g.Commit("one")
	g.Write("a", "2")
	c2 := g.Commit("two")
	g.SetRef("refs/remotes/origin/release", c1)
	g.SetRef("refs/remotes/origin/main", c1) // stale: refs/heads/main wins
	if _, err := g.Repo.CreateTag("v1.0.0", c1, &git.CreateTagOptions{Tagger: &object.Signature{Name: "t", Email: "t@example.com"}, Message: "v1.0.0"}); err != nil {
		t.Fatal(err)
	}
	g.SetRef("refs/tags/v1.1.0", c2)

	cases := []struct {
		ref  source.GitRef
		want string
		rev  string
	}{
		{source.GitRef{}, "", ""}, // master: absent
		{source.GitRef{Branch: "main"}, c2.String(), "main@sha1:" + c2.String()},
		{source.GitRef{Branch: "release"}, c1.String(), "release@sha1:" + c1.String()},
		{source.GitRef{Tag: "v1.0.0"}, c1.String(), "v1.0.0@sha1:" + c1.String()},
		{source.GitRef{SemVer: "~1.0"}, c1.String(), "v1.0.0@sha1:" + c1.String()},
		{source.GitRef{SemVer: ">=1.0.0"}, c2.String(), "v1.1.0@sha1:" + c2.String()},
		{source.GitRef{Branch: "main", Commit: c1.String()}, c1.String(), "main@sha1:" + c1.String()},
		{source.GitRef{Name: "refs/heads/release"}, c1.String(), "release@sha1:" + c1.String()},
		{source.GitRef{Tag: "v2.0.0"}, "", ""},
		{source.GitRef{Commit: "0123456789012345678901234567890123456789"}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.ref.Describe(), func(t *testing.T) {
			got, err := source.ResolveLocalRef(g.Dir, tc.ref)
			if tc.want == "" {
				var nl *source.RefNotLocalError
				if !errors.As(err, &nl) {
					t.Fatalf("got %+v, %v; want a RefNotLocalError", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Commit != tc.want || got.Revision != tc.rev {
				t.Errorf("got %+v, want %s %s", got, tc.want, tc.rev)
			}
		})
	}
	if _, err := source.ResolveLocalRef(g.Dir, source.GitRef{Commit: "abc123"}); err == nil {
		t.Error("a short commit hash was accepted")
	}
}
