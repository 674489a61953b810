package helmrelease

import (
	"os"
	"path/filepath"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/slipwayhq/slipway/internal/result"
)

func TestConfigDigest(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "app-0.1.0.tgz")
	if err := os.WriteFile(archive, []byte("chart bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := func() *result.ReleaseBuild {
		return &result.ReleaseBuild{
			Chart:        result.ChartRef{Name: "app", Version: "0.1.0"},
			ChartArchive: archive,
			Values:       map[string]any{"a": 1, "b": map[string]any{"c": "secret"}},
		}
	}
	d0, err := configDigest(base())
	if err != nil {
		t.Fatal(err)
	}
	if len(d0) != digestLen || len(d0) > 63 {
		t.Fatalf("digest %q is not a label value of %d characters", d0, digestLen)
	}
	same := base()
	same.Values = map[string]any{"b": map[string]any{"c": "secret"}, "a": 1}
	if d, _ := configDigest(same); d != d0 {
		t.Errorf("equal values in another order give another digest")
	}
	changes := map[string]func(*result.ReleaseBuild){
		"value":          func(rb *result.ReleaseBuild) { rb.Values["a"] = 2 },
		"nested value":   func(rb *result.ReleaseBuild) { rb.Values["b"] = map[string]any{"c": "other"} },
		"chart version":  func(rb *result.ReleaseBuild) { rb.Chart.Version = "0.1.1" },
		"chart name":     func(rb *result.ReleaseBuild) { rb.Chart.Name = "ap" },
		"chart digest":   func(rb *result.ReleaseBuild) { rb.Chart.Digest = "sha256:abc" },
		"values digest":  func(rb *result.ReleaseBuild) { rb.ValuesDigest = "sha256:def" },
		"chart contents": func(rb *result.ReleaseBuild) { _ = os.WriteFile(archive, []byte("other bytes"), 0o644) },
	}
	for name, change := range changes {
		rb := base()
		change(rb)
		d, err := configDigest(rb)
		if err != nil {
			t.Fatal(err)
		}
		if d == d0 {
			t.Errorf("%s changed, digest did not", name)
		}
		_ = os.WriteFile(archive, []byte("chart bytes"), 0o644)
	}
	missing := base()
	missing.ChartArchive = filepath.Join(t.TempDir(), "missing.tgz")
	if _, err := configDigest(missing); err == nil {
		t.Error("no error for a missing chart archive")
	}
}

func TestUninstallOptionsRoundTrip(t *testing.T) {
	fg := "foreground"
	hr := &helmv2.HelmRelease{}
	hr.Spec.Uninstall = &helmv2.Uninstall{KeepHistory: true, DisableHooks: true, DeletionPropagation: &fg}
	rb := &result.ReleaseBuild{Ref: result.KustomizationRef{Namespace: "apps", Name: "web"}}
	labels := releaseLabels(rb, hr, "d")
	u := uninstallFromLabels(labels)
	if !u.KeepHistory || !u.DisableHooks || u.GetDeletionPropagation() != "foreground" {
		t.Errorf("round trip lost options: %+v", u)
	}
	if labels[LabelOwnerName] != "web" || labels[LabelOwnerNamespace] != "apps" || labels[LabelConfigDigest] != "d" {
		t.Errorf("labels = %v", labels)
	}
	def := uninstallFromLabels(nil)
	if def.KeepHistory || def.DisableHooks || def.GetDeletionPropagation() != "background" {
		t.Errorf("defaults from no labels: %+v", def)
	}
}

func TestRetriesCap(t *testing.T) {
	for in, want := range map[int]int{0: 0, 2: 2, -1: MaxUnlimitedRetries} {
		if got := retries(in); got != want {
			t.Errorf("retries(%d) = %d, want %d", in, got, want)
		}
	}
}
