package github_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipwayhq/slipway/internal/github"
)

// GitHub's published example payloads (testdata/webhooks) read as GitHub
// sends them.
func TestReadEventGitHubExamples(t *testing.T) {
	dir := filepath.Join("testdata", "webhooks")
	t.Run("merge_group", func(t *testing.T) {
		ev, err := github.ReadEvent("merge_group", filepath.Join(dir, "merge_group.checks_requested.json"))
		if err != nil {
			t.Fatal(err)
		}
		mg := ev.MergeGroup
		if mg == nil || mg.Action != "checks_requested" || mg.HeadSHA != "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d" ||
			mg.BaseSHA != "380387fbc80638b734a49e1be1c4dfec1c01b33c" || mg.BaseRef != "refs/heads/main" ||
			mg.HeadRef != "refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64" {
			t.Fatalf("%+v", mg)
		}
	})
	t.Run("tag created", func(t *testing.T) {
		ev, err := github.ReadEvent("push", filepath.Join(dir, "push.tag-created.json"))
		if err != nil {
			t.Fatal(err)
		}
		if p := ev.Push; !p.NewRef() || !p.IsTag() || p.RefKind() != "tag simple-tag" {
			t.Fatalf("new %v tag %v kind %q", p.NewRef(), p.IsTag(), p.RefKind())
		}
	})
	t.Run("branch created", func(t *testing.T) {
		ev, err := github.ReadEvent("push", filepath.Join(dir, "push.branch-created.json"))
		if err != nil {
			t.Fatal(err)
		}
		if p := ev.Push; !p.NewRef() || p.IsTag() || p.RefKind() != "branch master" {
			t.Fatalf("new %v tag %v kind %q", p.NewRef(), p.IsTag(), p.RefKind())
		}
	})
	t.Run("tag deleted", func(t *testing.T) {
		ev, err := github.ReadEvent("push", filepath.Join(dir, "push.tag-deleted.json"))
		if err != nil || !ev.Push.Deleted {
			t.Fatalf("%+v %v", ev, err)
		}
	})
	t.Run("pull request", func(t *testing.T) {
		ev, err := github.ReadEvent("pull_request", filepath.Join(dir, "pull_request.opened.json"))
		if err != nil {
			t.Fatal(err)
		}
		pr := ev.PullRequest
		if pr.Number != 2 || pr.HeadRepo != "Codertocat/Hello-World" || pr.FromFork() || pr.HeadRepoDeleted {
			t.Fatalf("%+v", pr)
		}
	})
	t.Run("pull request whose head repository was deleted", func(t *testing.T) {
		path := derive(t, filepath.Join(dir, "pull_request.opened.json"), func(p map[string]any) {
			p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"] = nil
		})
		ev, err := github.ReadEvent("pull_request", path)
		if err != nil {
			t.Fatal(err)
		}
		if pr := ev.PullRequest; !pr.HeadRepoDeleted || !pr.FromFork() {
			t.Fatalf("a deleted head repository must count as a fork: %+v", pr)
		}
	})
	t.Run("merge_group without head_sha", func(t *testing.T) {
		path := derive(t, filepath.Join(dir, "merge_group.checks_requested.json"), func(p map[string]any) {
			delete(p["merge_group"].(map[string]any), "head_sha")
		})
		if _, err := github.ReadEvent("merge_group", path); err == nil {
			t.Fatal("a merge_group payload without head_sha was accepted")
		}
	})
}

// derive writes a copy of the payload at path changed by edit.
func derive(t *testing.T, path string, edit func(map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	b, err = json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
