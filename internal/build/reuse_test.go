package build

import (
	"errors"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

func TestAffected(t *testing.T) {
	kb := &result.KustomizationBuild{Path: "apps/staging", Files: []string{"apps/base/kustomization.yaml", "apps/base/redis/cm.yaml", "apps/staging/kustomization.yaml"}}
	cases := []struct {
		change source.FileChange
		want   bool
	}{
		{source.FileChange{Path: "apps/base/redis/cm.yaml", Action: source.FileModified}, true},
		{source.FileChange{Path: "apps/base/redis/unread.yaml", Action: source.FileModified}, false},
		// Appearing next to files it read: a generated kustomization may take it.
		{source.FileChange{Path: "apps/base/redis/new.yaml", Action: source.FileAdded}, true},
		{source.FileChange{Path: "apps/staging/deeper/new.yaml", Action: source.FileAdded}, true},
		{source.FileChange{Path: "apps/production/new.yaml", Action: source.FileAdded}, false},
		{source.FileChange{Path: "README.md", Action: source.FileModified}, false},
		{source.FileChange{Path: "other/.sourceignore", Action: source.FileModified}, true},
	}
	for _, c := range cases {
		if got := Affected(kb, []source.FileChange{c.change}); got != c.want {
			t.Errorf("%s %s: affected = %v, want %v", c.change.Action, c.change.Path, got, c.want)
		}
	}
	if !Affected(&result.KustomizationBuild{Err: errors.New("x")}, nil) {
		t.Error("a failed build is not affected")
	}
}
