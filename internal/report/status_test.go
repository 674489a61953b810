package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "just now"},
		{0, "just now"},
		{40 * time.Second, "40s ago"},
		{59*time.Minute + 59*time.Second, "59m ago"},
		{time.Hour, "1h ago"},
		{3*time.Hour + 59*time.Minute, "3h ago"},
		{47 * time.Hour, "47h ago"},
		{49 * time.Hour, "2d ago"},
		{400 * 24 * time.Hour, "400d ago"},
	} {
		if got := Age(tc.d); got != tc.want {
			t.Errorf("Age(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestHealthCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    result.KustomizationStatus
		want string
	}{
		{"empty", result.KustomizationStatus{}, "0 objects"},
		{"one", result.KustomizationStatus{Objects: 1, Health: map[result.Health]int{result.HealthCurrent: 1}}, "1 object: 1 Current"},
		{"ordered, zero counts left out", result.KustomizationStatus{Objects: 6, Health: map[result.Health]int{
			result.HealthNotFound: 1, result.HealthCurrent: 3, result.HealthInProgress: 2, result.HealthFailed: 0,
		}}, "6 objects: 3 Current, 2 InProgress, 1 NotFound"},
		{"releases", result.KustomizationStatus{Objects: 1, Health: map[result.Health]int{result.HealthCurrent: 1},
			Releases: []*result.ReleaseStatus{{}, {}}}, "1 object: 1 Current, 2 HelmReleases"},
	} {
		if got := HealthCounts(&tc.k); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// sampleStatus has one healthy cluster path and one with an InProgress
// Deployment, a release Helm's storage could not be read for, and a
// failed last deploy.
func sampleStatus(now time.Time) *result.LiveStatus {
	ref := func(ns, n string) result.KustomizationRef { return result.KustomizationRef{Namespace: ns, Name: n} }
	return &result.LiveStatus{Clusters: []*result.ClusterStatus{
		{
			Path:     "clusters/production",
			Deployed: &result.DeployRecord{Revision: "0123456789abcdef0123", At: now.Add(-3*time.Hour - 5*time.Minute), By: "https://github.com/o/r/actions/runs/7", Version: "v1.2.0", Outcome: "succeeded"},
			Kustomizations: []*result.KustomizationStatus{{
				Ref: ref("flux-system", "apps"), Objects: 2, Health: map[result.Health]int{result.HealthCurrent: 2},
				Releases: []*result.ReleaseStatus{{Ref: ref("web", "podinfo"), Release: "podinfo", StorageNamespace: "web", State: result.ReleaseFound, Revision: 3, Status: "deployed", Chart: "podinfo-6.5.0"}},
			}},
		},
		{
			Path:        "clusters/staging",
			Deployed:    &result.DeployRecord{Revision: "fedcba9876543210", At: now.Add(-90 * time.Second), Outcome: "failed"},
			DeployingBy: "runner-1/pid-42",
			Kustomizations: []*result.KustomizationStatus{{
				Ref: ref("flux-system", "web"), Objects: 3,
				Health:     map[result.Health]int{result.HealthCurrent: 1, result.HealthInProgress: 1, result.HealthNotReadable: 1},
				NotCurrent: []result.ObjectHealth{{ID: result.ObjectID{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "api"}, Health: result.HealthInProgress, Message: "Available: 0/1"}, {ID: result.ObjectID{Kind: "Secret", Namespace: "web", Name: "tls"}, Health: result.HealthNotReadable, Message: "not readable (RBAC)"}},
				Releases:   []*result.ReleaseStatus{{Ref: ref("web", "cache"), Release: "web-cache", StorageNamespace: "web", State: result.ReleaseNotReadable}},
			}},
			Drift: &result.DriftStatus{Drifted: []result.ObjectID{{Kind: "ConfigMap", Namespace: "web", Name: "cfg"}}},
		},
	}}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := StatusText(&b, sampleStatus(now), now); err != nil {
		t.Fatal(err)
	}
	want := `► clusters/production
  ✔ deployed 0123456789ab (succeeded) 3h ago by https://github.com/o/r/actions/runs/7 with slipway v1.2.0
  ✔ flux-system/apps: 2 objects: 2 Current, 1 HelmRelease
      HelmRelease/web/podinfo: release web/podinfo revision 3 deployed (podinfo-6.5.0)
  drift: not checked (--drift)
► clusters/staging
  ✗ deployed fedcba987654 (failed) 1m ago
  deploying now: runner-1/pid-42
  ✗ flux-system/web: 3 objects: 1 Current, 1 InProgress, 1 NotReadable, 1 HelmRelease
      Deployment/web/api InProgress: Available: 0/1
      Secret/web/tls NotReadable: not readable (RBAC)
      HelmRelease/web/cache: release web/web-cache: not readable (RBAC: reading Helm's storage needs Secrets in web)
  ✗ drift: 1 object(s) differ from the deployed revision: ConfigMap/web/cfg
✗ 1 of 2 cluster path(s) not healthy
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// Healthy decides the exit code: each kind of problem alone makes a
// cluster path unhealthy; what cannot be read does not.
func TestClusterStatusHealthy(t *testing.T) {
	now := time.Now()
	healthy := func() *result.ClusterStatus { return sampleStatus(now).Clusters[0] }
	if c := healthy(); !c.Healthy() {
		t.Fatal("the healthy sample is not healthy")
	}
	for name, spoil := range map[string]func(c *result.ClusterStatus){
		"failed deploy": func(c *result.ClusterStatus) { c.Deployed.Outcome = "failed" },
		"read error":    func(c *result.ClusterStatus) { c.Err = errors.New("boom") },
		"drift": func(c *result.ClusterStatus) {
			c.Drift = &result.DriftStatus{Drifted: []result.ObjectID{{Kind: "ConfigMap"}}}
		},
		"drift error": func(c *result.ClusterStatus) { c.Drift = &result.DriftStatus{Err: errors.New("build failed")} },
		"object failed": func(c *result.ClusterStatus) {
			c.Kustomizations[0].NotCurrent = []result.ObjectHealth{{Health: result.HealthFailed}}
		},
		"object missing": func(c *result.ClusterStatus) {
			c.Kustomizations[0].NotCurrent = []result.ObjectHealth{{Health: result.HealthNotFound}}
		},
		"release failed":        func(c *result.ClusterStatus) { c.Kustomizations[0].Releases[0].Status = "failed" },
		"release not installed": func(c *result.ClusterStatus) { c.Kustomizations[0].Releases[0].State = result.ReleaseNotInstalled },
	} {
		c := healthy()
		spoil(c)
		if c.Healthy() {
			t.Errorf("%s: still healthy", name)
		}
	}
	c := healthy()
	c.Kustomizations[0].NotCurrent = []result.ObjectHealth{{Health: result.HealthNotReadable}}
	c.Kustomizations[0].Releases[0].State = result.ReleaseNotReadable
	if !c.Healthy() {
		t.Error("objects and releases that cannot be read make the cluster path unhealthy")
	}
}

func TestStatusJSON(t *testing.T) {
	now := time.Now()
	s := sampleStatus(now)
	s.Clusters[1].Err = errors.New("listing went wrong")
	var b bytes.Buffer
	if err := StatusJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Healthy  bool
		Clusters []struct {
			Path           string
			Error          string
			Deployed       struct{ Revision, Outcome string }
			Kustomizations []struct {
				Objects  int
				Health   map[string]int
				Releases []struct {
					Release, State, Status string
					Revision               int
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	if doc.Healthy || len(doc.Clusters) != 2 {
		t.Fatalf("healthy %v, %d clusters:\n%s", doc.Healthy, len(doc.Clusters), b.String())
	}
	p := doc.Clusters[0]
	if p.Deployed.Revision != "0123456789abcdef0123" || p.Deployed.Outcome != "succeeded" || p.Kustomizations[0].Health["Current"] != 2 {
		t.Errorf("production: %+v", p)
	}
	if r := p.Kustomizations[0].Releases[0]; r.Release != "podinfo" || r.Revision != 3 || r.Status != "deployed" || r.State != "found" {
		t.Errorf("release: %+v", r)
	}
	if doc.Clusters[1].Error != "listing went wrong" {
		t.Errorf("error of staging: %q", doc.Clusters[1].Error)
	}
}
