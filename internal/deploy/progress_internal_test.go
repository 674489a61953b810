package deploy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestProgressLogCleansAndNamesTheSource(t *testing.T) {
	var lines []string
	obs := ProgressLog(func(s string) string { return strings.ReplaceAll(s, "hunter2", "***") },
		func(line string) { lines = append(lines, line) })
	obs(Event{ClusterPath: "clusters/prod", Kustomization: &result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Message: "token hunter2 used"})
	obs(Event{ClusterPath: "clusters/prod", Message: "lock taken"})
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), lines)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\d\d:\d\d:\d\d clusters/prod flux-system/apps: token \*\*\* used$`),
		regexp.MustCompile(`^\d\d:\d\d:\d\d clusters/prod: lock taken$`),
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i, lines[i], re)
		}
	}
}
