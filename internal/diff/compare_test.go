package diff_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

func cm(ns, name, value string) result.Object {
	return result.Object{Object: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     map[string]any{"v": value},
	}}, Origin: result.Origin{File: "apps/" + name + ".yaml", Line: 1}}
}

func release(name string, chart string, objs ...result.Object) *result.ReleaseBuild {
	return &result.ReleaseBuild{Ref: result.KustomizationRef{Namespace: "apps", Name: name}, ReleaseName: name,
		Chart: result.ChartRef{Name: name, Version: chart}, ValuesDigest: "sha256:" + chart, Objects: objs}
}

// TestHelmReleaseUnits treats every HelmRelease's rendered objects as a
// unit: releases added and removed, objects added, removed, changed
// inside one, and an object moving from a release to its Kustomization.
func TestHelmReleaseUnits(t *testing.T) {
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	base := &result.ClusterBuild{Path: "clusters/a", Kustomizations: []*result.KustomizationBuild{{
		Ref: apps, Objects: []result.Object{cm("apps", "plain", "1")},
		Releases: []*result.ReleaseBuild{
			release("web", "1.0.0", cm("apps", "web-config", "1"), cm("apps", "web-old", "1"), cm("apps", "web-moving", "1")),
			release("gone", "1.0.0", cm("apps", "gone-config", "1")),
		},
	}}}
	head := &result.ClusterBuild{Path: "clusters/a", Kustomizations: []*result.KustomizationBuild{{
		Ref: apps, Objects: []result.Object{cm("apps", "plain", "1"), cm("apps", "web-moving", "1")},
		Releases: []*result.ReleaseBuild{
			release("web", "1.1.0", cm("apps", "web-config", "2"), cm("apps", "web-new", "1")),
			release("fresh", "2.0.0", cm("apps", "fresh-config", "1")),
		},
	}}}
	res, err := diff.Compare([]*result.ClusterBuild{base}, []*result.ClusterBuild{head}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cd := res.Clusters[0]
	if cd.Action != diff.Changed || cd.Counts != (diff.Counts{Added: 2, Changed: 1, Removed: 2, Moved: 1}) {
		t.Fatalf("cluster %s, counts %+v", cd.Action, cd.Counts)
	}
	kd := cd.Kustomizations[0]
	got := map[string]string{}
	for _, rd := range kd.Releases {
		got["HelmRelease "+rd.Ref.Name] = string(rd.Action)
		for _, od := range rd.Objects {
			got[rd.Ref.Name+" "+od.ID.Name] = string(od.Action)
		}
	}
	for _, od := range kd.Objects {
		got["ks "+od.ID.Name] = string(od.Action) + " " + od.From
	}
	want := map[string]string{
		"HelmRelease web": "changed", "HelmRelease gone": "removed", "HelmRelease fresh": "added",
		"web web-config": "changed", "web web-old": "removed", "web web-new": "added",
		"gone gone-config": "removed", "fresh fresh-config": "added",
		"ks web-moving": "moved HelmRelease apps/web",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	web := kd.Releases[0]
	if web.ChartFrom == nil || web.ChartTo.Version != "1.1.0" || !web.ValuesChanged {
		t.Errorf("web release: chart %v -> %v, values changed %v", web.ChartFrom, web.ChartTo, web.ValuesChanged)
	}
	var b bytes.Buffer
	if err := report.DiffText(&b, res, report.DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"• HelmRelease apps/web changed: chart web@1.0.0 → web@1.1.0, values changed", "• HelmRelease apps/gone removed", "► ConfigMap/apps/web-moving moved from HelmRelease apps/web"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestMaskedValues: a value that left a Secret (substituted into a
// ConfigMap) is masked, and its change is still reported.
func TestMaskedValues(t *testing.T) {
	ref := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	mk := func(v string) *result.ClusterBuild {
		return &result.ClusterBuild{Path: "p", Sensitive: []string{v},
			Kustomizations: []*result.KustomizationBuild{{Ref: ref, Objects: []result.Object{cm("a", "cfg", v)}}}}
	}
	res, err := diff.Compare([]*result.ClusterBuild{mk("hunter2-old")}, []*result.ClusterBuild{mk("hunter2-new")}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	od := res.Clusters[0].Kustomizations[0].Objects[0]
	if od.Action != diff.Changed || strings.Contains(od.Diff, "hunter2") {
		t.Fatalf("action %s, diff:\n%s", od.Action, od.Diff)
	}
	if len(od.Notes) == 0 {
		t.Errorf("a masked change carries no note")
	}
}

// TestFailedKustomizationNotCompared: objects of a Kustomization that does
// not build are neither removed nor added.
func TestFailedKustomizationNotCompared(t *testing.T) {
	ref := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	base := &result.ClusterBuild{Path: "p", Kustomizations: []*result.KustomizationBuild{{Ref: ref, Objects: []result.Object{cm("a", "x", "1")}}}}
	head := &result.ClusterBuild{Path: "p", Kustomizations: []*result.KustomizationBuild{{Ref: ref, Err: errFake("apps/kustomization.yaml:3: boom")}},
		Findings: []result.Finding{{Severity: result.SeverityError, Check: "build", ClusterPath: "p", Origin: result.Origin{File: "apps/kustomization.yaml", Line: 3}, Message: "boom"}}}
	res, err := diff.Compare([]*result.ClusterBuild{base}, []*result.ClusterBuild{head}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cd := res.Clusters[0]
	if cd.Counts.Total() != 0 || cd.Kustomizations[0].Action != diff.Failed || !res.HasErrors() {
		t.Fatalf("counts %+v, action %s, errors %v", cd.Counts, cd.Kustomizations[0].Action, cd.Errors)
	}
	if cd.Errors[0].Finding.Origin.String() != "apps/kustomization.yaml:3" {
		t.Errorf("error origin %q", cd.Errors[0].Finding.Origin)
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }

// A HelmRelease that fails to render may quote its values in the error (a
// chart's fail message): values from Secrets are masked there too, in
// every renderer.
func TestFailedReleaseErrorMasked(t *testing.T) {
	const secret = "hunter2-from-a-secret"
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	mk := func(err error) *result.ClusterBuild {
		rb := release("web", "1.0.0")
		rb.Err = err
		return &result.ClusterBuild{Path: "clusters/a", Sensitive: []string{secret},
			Kustomizations: []*result.KustomizationBuild{{Ref: apps, Releases: []*result.ReleaseBuild{rb}}}}
	}
	base := mk(nil)
	head := mk(errors.New("execution error at (web/templates/x.yaml:3): password " + secret + " is too short"))
	res, err := diff.Compare([]*result.ClusterBuild{base}, []*result.ClusterBuild{head}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text, md bytes.Buffer
	if err := report.DiffText(&text, res, report.DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffMarkdown(&md, res, report.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(res)
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String(), "json": string(js)} {
		if strings.Contains(out, secret) {
			t.Errorf("%s output shows the secret:\n%s", name, out)
		}
	}
	if !strings.Contains(text.String()+string(js), "is too short") {
		t.Errorf("the failure is not reported:\n%s\n%s", text.String(), js)
	}
}

// Objects removed from the repository that Flux leaves in the cluster —
// prune disabled on them, or Helm's keep policy on a release's object —
// are not listed as deletions.
func TestRemovedButKept(t *testing.T) {
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	annotated := func(o result.Object, k, v string) result.Object {
		o.Object = o.Object.DeepCopy()
		o.Object.SetAnnotations(map[string]string{k: v})
		return o
	}
	base := &result.ClusterBuild{Path: "clusters/a", Kustomizations: []*result.KustomizationBuild{{
		Ref: apps,
		Objects: []result.Object{
			cm("apps", "gone", "1"),
			annotated(cm("apps", "pinned", "1"), "kustomize.toolkit.fluxcd.io/prune", "disabled"),
		},
		Releases: []*result.ReleaseBuild{release("web", "1.0.0", cm("apps", "web-config", "1"),
			annotated(cm("apps", "web-pvc", "1"), "helm.sh/resource-policy", "keep"))},
	}}}
	head := &result.ClusterBuild{Path: "clusters/a", Kustomizations: []*result.KustomizationBuild{{
		Ref: apps, Releases: []*result.ReleaseBuild{release("web", "1.0.0", cm("apps", "web-config", "1"))},
	}}}
	res, err := diff.Compare([]*result.ClusterBuild{base}, []*result.ClusterBuild{head}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]string{}
	for _, kd := range res.Clusters[0].Kustomizations {
		objs := kd.Objects
		for _, rd := range kd.Releases {
			objs = append(objs, rd.Objects...)
		}
		for _, od := range objs {
			if od.Action == diff.Removed {
				kept[od.ID.Name] = od.Kept
			}
		}
	}
	want := map[string]string{"gone": "", "pinned": "kustomize.toolkit.fluxcd.io/prune: disabled", "web-pvc": "helm.sh/resource-policy: keep"}
	for name, w := range want {
		if got, ok := kept[name]; !ok || got != w {
			t.Errorf("%s: kept %q (listed %v), want %q", name, got, ok, w)
		}
	}
	var md bytes.Buffer
	if err := report.DiffMarkdown(&md, res, report.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	del, _, _ := strings.Cut(out[strings.Index(out, "**Deletions**"):], "\n\n")
	if !strings.Contains(del, "ConfigMap/apps/gone") || strings.Contains(del, "pinned") || strings.Contains(del, "web-pvc") {
		t.Errorf("deletions block:\n%s", del)
	}
	if !strings.Contains(out, "**Left in the cluster, no longer managed**") || !strings.Contains(out, "ConfigMap/apps/pinned") || !strings.Contains(out, "ConfigMap/apps/web-pvc") {
		t.Errorf("markdown:\n%s", out)
	}
}

// A HelmRelease that fails the same way in both revisions is not a change:
// the cluster path is unchanged, its error is reported once as already
// failing on the base, and no new error is held against the head.
func TestStillFailingIsNotAChange(t *testing.T) {
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	failing := func(msg string) *result.ClusterBuild {
		rb := release("web", "1.0.0")
		rb.Err = errors.New(msg)
		f := result.Finding{Severity: result.SeverityError, Check: "helm", ClusterPath: "clusters/a", Kustomization: &apps,
			Origin: result.Origin{File: "apps/web.yaml", Line: 1}, Message: msg}
		return &result.ClusterBuild{Path: "clusters/a", Findings: []result.Finding{f},
			Kustomizations: []*result.KustomizationBuild{{Ref: apps, Releases: []*result.ReleaseBuild{rb}}}}
	}
	res, err := diff.Compare([]*result.ClusterBuild{failing("chart web not found")}, []*result.ClusterBuild{failing("chart web not found")}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cd := res.Clusters[0]
	if cd.Action != diff.Unchanged || res.HasChanges() || res.HasNewErrors() || len(res.ChangedPaths()) != 0 {
		t.Fatalf("still failing: action %s, changes %v, new errors %v, paths %v", cd.Action, res.HasChanges(), res.HasNewErrors(), res.ChangedPaths())
	}
	if len(cd.Errors) != 1 || cd.Errors[0].Revision != diff.RevisionBoth {
		t.Fatalf("errors %+v: want one, already failing on the base", cd.Errors)
	}
	var md bytes.Buffer
	if err := report.DiffMarkdown(&md, res, report.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "**Already failing on the base**") || strings.Contains(md.String(), "**Build errors**") {
		t.Errorf("markdown:\n%s", md.String())
	}

	// Failing differently in the head is the change's doing.
	res, err = diff.Compare([]*result.ClusterBuild{failing("chart web not found")}, []*result.ClusterBuild{failing("values: password is required")}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.HasNewErrors() || res.Clusters[0].Action == diff.Unchanged {
		t.Errorf("a new failure: new errors %v, action %s", res.HasNewErrors(), res.Clusters[0].Action)
	}
}
