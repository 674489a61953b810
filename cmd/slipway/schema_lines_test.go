package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// TestValidateNamesEveryMisspelledField: slipway validate names every
// unknown field of a Deployment, sorted, each at the line of the field
// (not the object's first line), in text and in JSON.
func TestValidateNamesEveryMisspelledField(t *testing.T) {
	repo := filepath.Join(testutil.RepoRoot(t), "testdata", "broken", "misspelled-fields", "repo")
	r := runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != exitFailed {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{
		"apps/dev/deployment.yaml:16 [schema] Deployment/demo/web: .spec.strategy.rollingUpdat: field not declared in schema",
		`apps/dev/deployment.yaml:26 [schema] Deployment/demo/web: .spec.template.spec.containers[name="web"].imagePullPolice: field not declared`,
		`apps/dev/deployment.yaml:29 [schema] Deployment/demo/web: .spec.template.spec.containers[name="web"].ports[containerPort="http",protocol="TCP"].containerPort: expected numeric`,
		`apps/dev/deployment.yaml:31 [schema] Deployment/demo/web: .spec.template.spec.containers[name="web"].resources.limts: field not declared`,
		`apps/dev/deployment.yaml:35 [schema] Deployment/demo/web: .spec.template.spec.containers[name="sidecar"].comand: field not declared`,
		"apps/dev/deployment.yaml:36 [schema] Deployment/demo/web: .spec.template.spec.nodeSelectr: field not declared",
		`apps/dev/helmrepository.yaml:6 [schema] HelmRepository/demo/charts: unknown field "spec.intervl"`,
		`apps/dev/helmrepository.yaml:8 [schema] HelmRepository/demo/charts: unknown field "spec.timeot"`,
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}

	r = runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir(), "-o", "json")
	var out struct {
		Clusters []struct {
			Findings []struct {
				Check  string `json:"check"`
				Origin struct {
					File string `json:"file"`
					Line int    `json:"line"`
				} `json:"origin"`
				Message string `json:"message"`
			} `json:"findings"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(r.out), &out); err != nil || len(out.Clusters) != 1 {
		t.Fatalf("JSON: %v\n%s", err, r.out)
	}
	var lines []int
	for _, f := range out.Clusters[0].Findings {
		if f.Check == "schema" && f.Origin.File == "apps/dev/deployment.yaml" {
			lines = append(lines, f.Origin.Line)
		}
	}
	if want := []int{16, 26, 29, 31, 35, 36}; !equalInts(lines, want) {
		t.Errorf("JSON finding lines %v, want %v", lines, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
