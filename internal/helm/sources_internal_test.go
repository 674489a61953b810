package helm

import (
	"errors"
	"strings"
	"testing"
	"time"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

func chartVersion(name, version string, created time.Time, url string) *repo.ChartVersion {
	cv := &repo.ChartVersion{Created: created, URLs: []string{url}}
	cv.Metadata = &chart.Metadata{Name: name, Version: version}
	return cv
}

// Of index entries repeating a version, the newest wins.
func TestIndexVersionPicksTheNewestEntryOfAVersion(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	idx := &repo.IndexFile{Entries: map[string]repo.ChartVersions{"app": {
		chartVersion("app", "1.0.0", t0, "old.tgz"),
		chartVersion("app", "1.2.0", t0, "first.tgz"),
		chartVersion("app", "1.2.0", t0.Add(time.Hour), "second.tgz"),
	}}}
	cv, err := indexVersion(idx, "app", "^1.0.0", "https://charts.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if cv.Version != "1.2.0" || cv.URLs[0] != "second.tgz" {
		t.Errorf("picked %s %v, want 1.2.0 second.tgz", cv.Version, cv.URLs)
	}
}

func TestIndexVersionNamesTheChartsItHas(t *testing.T) {
	idx := &repo.IndexFile{Entries: map[string]repo.ChartVersions{}}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		idx.Entries[n] = repo.ChartVersions{chartVersion(n, "1.0.0", time.Time{}, n+".tgz")}
	}
	_, err := indexVersion(idx, "apps", "*", "https://charts.example.com/")
	var nf *ChartNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want a ChartNotFoundError", err)
	}
	if !strings.Contains(nf.Reason, "a, b, c") || !strings.Contains(nf.Reason, "…") || strings.Contains(nf.Reason, "l)") {
		t.Errorf("reason = %q, want the first ten names and an ellipsis", nf.Reason)
	}
}

// Credentials go to the chart URL only on the repository's own host
// unless passCredentials says otherwise, as in Helm.
func TestChartCredentials(t *testing.T) {
	creds := credentials{username: "u", password: "p"}
	same := chartCredentials(creds, false, "https://charts.example.com/", "https://charts.example.com/app-1.0.0.tgz")
	other := chartCredentials(creds, false, "https://charts.example.com/", "https://cdn.example.net/app-1.0.0.tgz")
	passed := chartCredentials(creds, true, "https://charts.example.com/", "https://cdn.example.net/app-1.0.0.tgz")
	if same.username != "u" || other.username != "" || other.password != "" || passed.password != "p" {
		t.Errorf("same host %+v, other host %+v, passCredentials %+v", same, other, passed)
	}
}

func TestWithAlgorithm(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "sha256:abc", "sha256:abc": "sha256:abc"} {
		if got := withAlgorithm(in); got != want {
			t.Errorf("withAlgorithm(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGitRefOf(t *testing.T) {
	gr := &sourcev1.GitRepository{}
	gr.Spec.URL = "https://example.com/charts.git"
	if ref := gitRefOf(gr); ref.URL != gr.Spec.URL || ref.Branch != "" || ref.Tag != "" {
		t.Errorf("no reference: %+v", ref)
	}
	gr.Spec.Reference = &sourcev1.GitRepositoryRef{Tag: "v1.2.3", Commit: "0123abcd"}
	if ref := gitRefOf(gr); ref.Tag != "v1.2.3" || ref.Commit != "0123abcd" {
		t.Errorf("with reference: %+v", ref)
	}
}

// A chart's key changes with its files and with where it comes from.
func TestChartContentKey(t *testing.T) {
	c := &chart.Chart{Raw: []*common.File{{Name: "Chart.yaml", Data: []byte("name: a")}}}
	k := chartContentKey(c, "repo//a")
	if k != chartContentKey(c, "repo//a") {
		t.Error("the key is not stable")
	}
	if k == chartContentKey(c, "repo//b") {
		t.Error("the key ignores where the chart comes from")
	}
	c2 := &chart.Chart{Raw: []*common.File{{Name: "Chart.yaml", Data: []byte("name: b")}}}
	if k == chartContentKey(c2, "repo//a") {
		t.Error("the key ignores the chart's files")
	}
}
