package diff_test

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/images"
	"github.com/slipwayhq/slipway/internal/result"
)

func parse(t *testing.T, doc string) result.Object {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return result.Object{Object: u}
}

// deployment is a chart's Deployment at a chart version, with a config
// checksum, an image and a replica count.
func deployment(t *testing.T, chart, checksum, image string, replicas int) result.Object {
	return parse(t, strings.NewReplacer("CHART", chart, "SUM", checksum, "IMAGE", image, "REPLICAS", string(rune('0'+replicas))).Replace(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  labels: {helm.sh/chart: web-CHART, app.kubernetes.io/version: CHART, app: web}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {helm.sh/chart: web-CHART, app: web}
      annotations: {checksum/config: SUM}
    spec:
      containers: [{name: web, image: IMAGE}]
`))
}

func crd(t *testing.T, version string) result.Object {
	return parse(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, labels: {v: "`+version+`"}}
spec: {group: example.com}
`)
}

func oneCluster(objs ...result.Object) []*result.ClusterBuild {
	return []*result.ClusterBuild{{Path: "clusters/a", Kustomizations: []*result.KustomizationBuild{{
		Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Objects: objs}}}}
}

// TestNoiseStripped: an object that differs only in stripped labels and
// annotations (its own and its Pod template's) is unchanged, and the
// result says what was ignored; without the defaults the same change
// shows.
func TestNoiseStripped(t *testing.T) {
	base := oneCluster(deployment(t, "1.0.0", "aaa", "web:1", 1), crd(t, "1"))
	head := oneCluster(deployment(t, "1.1.0", "bbb", "web:1", 1), crd(t, "2"))

	res, err := diff.Compare(base, head, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Clusters[0].Counts.Changed != 2 || res.Ignored != nil {
		t.Fatalf("without noise control: counts %+v, ignored %+v; want both objects changed, nothing ignored", res.Clusters[0].Counts, res.Ignored)
	}

	noise := diff.DefaultNoise()
	noise.SkipKinds = []string{"CustomResourceDefinition"}
	res, err = diff.Compare(base, head, diff.Options{Noise: noise})
	if err != nil {
		t.Fatal(err)
	}
	if cd := res.Clusters[0]; cd.Action != diff.Unchanged || cd.Counts.Total() != 0 {
		t.Fatalf("with the defaults and CRDs skipped: %s %+v, want unchanged", cd.Action, cd.Counts)
	}
	if res.Ignored == nil || res.Ignored.Skipped != 1 || len(res.Ignored.StripLabels) == 0 {
		t.Errorf("ignored = %+v, want the patterns and 1 skipped object", res.Ignored)
	}

	// A real change next to the stripped churn shows, without the churn.
	head = oneCluster(deployment(t, "1.1.0", "bbb", "web:1", 3))
	res, err = diff.Compare(base, head, diff.Options{Noise: diff.DefaultNoise()})
	if err != nil {
		t.Fatal(err)
	}
	od := res.Clusters[0].Kustomizations[0].Objects
	if len(od) != 2 || od[1].ID.Kind != "Deployment" {
		t.Fatalf("objects %+v, want the CRD removed and the Deployment changed", od)
	}
	d := od[1].Diff
	if !strings.Contains(d, "+  replicas: 3") || strings.Contains(d, "checksum") || strings.Contains(d, "helm.sh/chart") {
		t.Errorf("diff should show replicas and no stripped field:\n%s", d)
	}
	if !strings.Contains(d, "app: web") {
		t.Errorf("labels not matching a pattern (and selectors) stay:\n%s", d)
	}
}

// TestContextLines: the number of unchanged lines around a change follows
// Options.Context; negative means none.
func TestContextLines(t *testing.T) {
	base := oneCluster(deployment(t, "1", "a", "web:1", 1))
	head := oneCluster(deployment(t, "1", "a", "web:1", 2))
	lines := func(ctx int) int {
		res, err := diff.Compare(base, head, diff.Options{Context: ctx})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(res.Clusters[0].Kustomizations[0].Objects[0].Diff, "\n")
	}
	none, def, wide := lines(-1), lines(0), lines(10)
	if !(none < def && def < wide) || none != 5 {
		t.Errorf("diff lines: none %d, default %d, 10 %d; want increasing, 5 without context (2 headers, hunk, -, +)", none, def, wide)
	}
}

func TestImageChanges(t *testing.T) {
	base := oneCluster(deployment(t, "1", "a", "ghcr.io/org/web:1.0", 1))
	head := oneCluster(deployment(t, "1", "a", "ghcr.io/org/web:1.1", 1))
	res, err := diff.Compare(base, head, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := res.ImageChanges()
	want := diff.ImageChange{Path: "clusters/a", Change: images.Change{Kind: "Kustomization", Namespace: "flux-system", Name: "apps",
		Action: images.Updated, Repository: "ghcr.io/org/web", From: "ghcr.io/org/web:1.0", To: "ghcr.io/org/web:1.1", Image: "ghcr.io/org/web:1.1"}}
	if len(got) != 1 || got[0] != want {
		t.Errorf("image changes = %+v, want %+v", got, want)
	}
	// A Kustomization that fails on the head: its images are unknown, not
	// removed.
	failing := oneCluster()
	failing[0].Kustomizations[0].Err = errors.New("kustomize build failed")
	res, err = diff.Compare(base, failing, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ImageChanges(); len(got) != 0 {
		t.Errorf("image changes against a failed build = %+v, want none", got)
	}
}
