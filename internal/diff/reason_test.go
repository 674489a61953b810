package diff_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// TestFailedUnitsCarryReason: a Kustomization or HelmRelease that fails
// keeps the build's error value and its reason beside the masked text;
// JSON adds "reason" next to the unchanged "error", and the text
// renderer prints what it printed before.
func TestFailedUnitsCarryReason(t *testing.T) {
	const secret = "hunter2-from-a-secret"
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	infra := result.KustomizationRef{Namespace: "flux-system", Name: "infra"}
	decrypt := &build.KustomizationError{Ref: infra, Err: &build.DecryptError{Kind: "Secret", Namespace: "a", Name: "b", Err: build.ErrNoKey}}
	render := &helm.TemplateError{Chart: "web", File: "web/templates/x.yaml", Line: 3, Err: errors.New("password " + secret + " is too short")}
	mk := func(failing bool) *result.ClusterBuild {
		rb := release("web", "1.0.0", cm("apps", "web-config", "1"))
		ks := &result.KustomizationBuild{Ref: infra, Objects: []result.Object{cm("infra", "x", "1")}}
		if failing {
			rb.Err, rb.Objects = render, nil
			ks.Err, ks.Objects = decrypt, nil
		}
		return &result.ClusterBuild{Path: "clusters/a", Sensitive: []string{secret}, Kustomizations: []*result.KustomizationBuild{
			{Ref: apps, Releases: []*result.ReleaseBuild{rb}}, ks,
		}}
	}
	res, err := diff.Compare([]*result.ClusterBuild{mk(false)}, []*result.ClusterBuild{mk(true)}, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kd *diff.KustomizationDiff
	var rd *diff.ReleaseDiff
	for _, k := range res.Clusters[0].Kustomizations {
		switch k.Ref {
		case infra:
			kd = k
		case apps:
			rd = k.Releases[0]
		}
	}
	var de *build.DecryptError
	if kd == nil || kd.Action != diff.Failed || kd.Reason != result.ReasonDecryptionFailed || !errors.As(kd.Err, &de) || kd.Error != decrypt.Error() {
		t.Fatalf("Kustomization: %+v", kd)
	}
	var te *helm.TemplateError
	if rd == nil || rd.Action != diff.Failed || rd.Reason != result.ReasonRenderFailed || !errors.As(rd.Err, &te) || strings.Contains(rd.Error, secret) || strings.Contains(rd.Err.Error(), secret) {
		t.Fatalf("HelmRelease: %+v", rd)
	}

	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"error":"` + decrypt.Error() + `","reason":"DecryptionFailed"`, `"reason":"RenderFailed"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
	if strings.Contains(string(js), secret) {
		t.Errorf("JSON shows the secret")
	}
	var text bytes.Buffer
	if err := report.DiffText(&text, res, report.DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	// The text renderer shows the message, not the reason word.
	if !strings.Contains(text.String(), decrypt.Error()) || strings.Contains(text.String(), "DecryptionFailed") {
		t.Errorf("text:\n%s", text.String())
	}
}
