package helm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Helm's ownership metadata, set on every object it installs.
const (
	managedByLabel          = "app.kubernetes.io/managed-by"
	releaseNameAnnotation   = "meta.helm.sh/release-name"
	releaseNSAnnotation     = "meta.helm.sh/release-namespace"
	postRenderFileAnnotaion = "postrenderer.helm.sh/postrender-filename"
)

type rendered struct {
	objects []*unstructured.Unstructured
	crds    []*unstructured.Unstructured
}

// templateLocation finds "file:line" in Helm's engine errors, which read
// "parse error at (chart/templates/x.yaml:12): …", "execution error at
// (chart/templates/x.yaml:12:5): …" or "template: chart/templates/x.yaml:12:5: …".
var templateLocation = regexp.MustCompile(`(?:^|\(|\s)([^()\s:]+\.(?:yaml|yml|tpl|txt|json)):(\d+)`)

// render runs Helm's install in client-only dry-run mode, with the options
// helm-controller sets, and splits the manifest into objects.
func (r *Renderer) render(hr *helmv2.HelmRelease, releaseName string, art *chartArtifact, values map[string]any) (*rendered, error) {
	// Each render loads its own copy: Helm mutates the chart (disabled
	// subcharts, imported values) while rendering.
	c, err := loader.LoadFile(art.archive)
	if err != nil {
		return nil, &SourceError{Kind: "chart", Name: art.ref.Name, URL: art.ref.Source, Reason: "loading chart", Err: err}
	}
	if kv := c.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, r.kube.String()) {
		return nil, &KubeVersionError{Chart: c.Name() + " " + c.Metadata.Version, Constraint: kv, KubeVersion: r.kube.Version}
	}
	policy := hr.GetInstall().CRDs
	switch policy {
	case "":
		policy = helmv2.Create
	case helmv2.Skip, helmv2.Create, helmv2.CreateReplace:
	default:
		return nil, &SpecError{Reason: fmt.Sprintf("invalid install.crds policy %q (Skip, Create or CreateReplace)", policy)}
	}

	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	inst := action.NewInstall(cfg)
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = releaseName
	inst.Namespace = hr.GetReleaseNamespace()
	inst.KubeVersion = r.kube
	inst.APIVersions = common.VersionSet(r.opts.APIVersions)
	inst.Devel = true
	inst.SkipCRDs = true
	inst.IncludeCRDs = false
	inst.DisableHooks = hr.GetInstall().DisableHooks
	inst.SkipSchemaValidation = hr.GetInstall().DisableSchemaValidation
	inst.DisableOpenAPIValidation = true
	// Without kustomize post-renderers, the metadata every release gets is
	// set on the decoded objects below: the same result, without Helm
	// joining, re-parsing and re-splitting every manifest around a
	// post-renderer (a quarter of a render). Installs always use the full
	// chain (PostRenderer), so live objects carry the same metadata.
	postRender := hasKustomizePostRenderers(hr)
	if postRender {
		inst.PostRenderer = r.postRenderers(hr)
	}
	inst.PostRenderStrategy = action.PostRenderStrategyCombined
	if s := hr.Spec.PostRenderStrategy; s != "" {
		inst.PostRenderStrategy = action.PostRenderStrategy(s)
	}

	rel, err := r.runInstall(inst, c, values)
	if err != nil {
		return nil, classifyRenderError(c, err)
	}
	out := &rendered{}
	scopes := newScopes(c)
	if out.objects, err = decodeManifests(rel.Manifest); err != nil {
		return nil, &TemplateError{Chart: c.Name(), Err: fmt.Errorf("rendered manifest does not decode: %w", err)}
	}
	for _, o := range out.objects {
		scopes.learn(o)
	}
	labels, annotations := releaseMetadata(hr)
	for _, o := range out.objects {
		if o.GetNamespace() == "" && scopes.namespaced(o) {
			o.SetNamespace(inst.Namespace)
		}
		if !postRender {
			mergeStringMap(o, "labels", labels)
			if len(annotations) > 0 {
				mergeStringMap(o, "annotations", annotations)
			}
		}
		mergeStringMap(o, "labels", map[string]string{managedByLabel: "Helm"})
		mergeStringMap(o, "annotations", map[string]string{releaseNameAnnotation: releaseName, releaseNSAnnotation: inst.Namespace})
	}
	if policy != helmv2.Skip {
		for _, f := range c.CRDObjects() {
			objs, err := decodeManifests(string(f.File.Data))
			if err != nil {
				return nil, &TemplateError{Chart: c.Name(), File: f.Filename, Err: fmt.Errorf("CRD does not decode: %w", err)}
			}
			for _, o := range objs {
				mergeStringMap(o, "labels", originLabels(hr.Namespace, hr.Name))
				out.crds = append(out.crds, o)
			}
		}
	}
	return out, nil
}

// runInstall runs the install with panics (from templates or Helm)
// turned into errors.
func (r *Renderer) runInstall(inst *action.Install, c *chart.Chart, values map[string]any) (rel *release.Release, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("helm panicked while rendering: %v", rec)
		}
	}()
	if values == nil {
		values = map[string]any{}
	}
	res, err := inst.RunWithContext(context.Background(), c, values)
	if err != nil {
		return nil, err
	}
	rel, ok := res.(*release.Release)
	if !ok {
		return nil, errors.New("unexpected release type from Helm")
	}
	return rel, nil
}

func classifyRenderError(c *chart.Chart, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "values don't meet the specifications of the schema") {
		return &ValuesError{Where: "chart " + c.Name() + " values.schema.json", Err: err}
	}
	if strings.Contains(msg, "chart requires kubeVersion") {
		return &KubeVersionError{Chart: c.Name() + " " + c.Metadata.Version, Constraint: c.Metadata.KubeVersion}
	}
	te := &TemplateError{Chart: c.Name() + " " + c.Metadata.Version, Err: err}
	if m := templateLocation.FindStringSubmatch(msg); m != nil {
		te.File = m[1]
		te.Line, _ = strconv.Atoi(m[2])
	}
	return te
}

// DecodeManifest splits a release manifest (a YAML stream, as Helm stores
// it) into objects, as rendering does.
func DecodeManifest(manifest string) ([]*unstructured.Unstructured, error) {
	return decodeManifests(manifest)
}

// decodeManifests splits a YAML stream into objects, dropping empty
// documents and Helm's post-render bookkeeping annotation.
func decodeManifests(manifest string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifest)), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if ann := u.GetAnnotations(); ann != nil {
			if _, ok := ann[postRenderFileAnnotaion]; ok {
				delete(ann, postRenderFileAnnotaion)
				if len(ann) == 0 {
					ann = nil
				}
				u.SetAnnotations(ann)
			}
		}
		out = append(out, u)
	}
}

func mergeStringMap(u *unstructured.Unstructured, field string, add map[string]string) {
	cur, _, _ := unstructured.NestedStringMap(u.Object, "metadata", field)
	if cur == nil {
		cur = map[string]string{}
	}
	for k, v := range add {
		cur[k] = v
	}
	_ = unstructured.SetNestedStringMap(u.Object, cur, "metadata", field)
}
