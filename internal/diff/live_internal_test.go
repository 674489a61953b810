package diff

import (
	"slices"
	"testing"

	"github.com/slipwayhq/slipway/internal/helm"
)

func TestWithClusterKeepsAGivenVersion(t *testing.T) {
	given := helm.Options{KubeVersion: "1.33", APIVersions: []string{"a/v1"}}
	got := withCluster(given, "v1.36.3", []string{"b/v1"})
	if got.KubeVersion != "1.33" {
		t.Errorf("KubeVersion = %q, want the given 1.33", got.KubeVersion)
	}
	if !slices.Equal(got.APIVersions, []string{"a/v1", "b/v1"}) {
		t.Errorf("APIVersions = %v, want given then served", got.APIVersions)
	}
	if !slices.Equal(given.APIVersions, []string{"a/v1"}) {
		t.Errorf("the caller's APIVersions changed: %v", given.APIVersions)
	}
}

func TestWithClusterUsesTheClusterVersion(t *testing.T) {
	got := withCluster(helm.Options{}, "v1.36.3", []string{"b/v1"})
	if got.KubeVersion != "v1.36.3" {
		t.Errorf("KubeVersion = %q, want the cluster's", got.KubeVersion)
	}
}

func TestHeadName(t *testing.T) {
	if got := headName(""); got != "worktree" {
		t.Errorf(`headName("") = %q`, got)
	}
	if got := headName("abc123"); got != "abc123" {
		t.Errorf(`headName("abc123") = %q`, got)
	}
}

func TestDriftedPathsSkipsUnchanged(t *testing.T) {
	res := &Result{Clusters: []*ClusterDiff{
		{Path: "clusters/a", Action: Unchanged},
		{Path: "clusters/b", Action: Changed},
		{Path: "clusters/c", Action: Unchanged, Errors: []BuildError{{Revision: "base"}}},
	}}
	var got []string
	for _, cd := range driftedPaths(res) {
		got = append(got, cd.Path)
	}
	if want := []string{"clusters/b", "clusters/c"}; !slices.Equal(got, want) {
		t.Errorf("drifted = %v, want %v", got, want)
	}
}
