package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"helm.sh/helm/v4/pkg/postrenderer"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
)

// helmGroup is the API group whose name/namespace labels helm-controller
// puts on every object of a release.
const helmGroup = "helm.toolkit.fluxcd.io"

// postRenderers mirrors helm-controller's BuildPostRenderers: each
// spec.postRenderers[].kustomize in order, then commonMetadata, then the
// origin labels (last, so they win over commonMetadata on a collision).
func (r *Renderer) postRenderers(hr *helmv2.HelmRelease) postrenderer.PostRenderer {
	return PostRenderer(hr, r.kmu)
}

// PostRenderer returns the post-renderer chain helm-controller builds for a
// HelmRelease (BuildPostRenderers), for Helm's install and upgrade actions:
// a release installed with it holds exactly the objects Render produced.
// lock is held around kustomize runs (nil: a lock private to the chain).
func PostRenderer(hr *helmv2.HelmRelease, lock sync.Locker) postrenderer.PostRenderer {
	if lock == nil {
		lock = &sync.Mutex{}
	}
	var chain postRenderChain
	for _, pr := range hr.Spec.PostRenderers {
		if pr.Kustomize != nil {
			chain = append(chain, &kustomizePostRenderer{patches: pr.Kustomize.Patches, images: pr.Kustomize.Images, lock: lock})
		}
	}
	if cm := hr.Spec.CommonMetadata; cm != nil && (cm.Labels != nil || cm.Annotations != nil) {
		chain = append(chain, &metadataPostRenderer{labels: cm.Labels, annotations: cm.Annotations})
	}
	chain = append(chain, &metadataPostRenderer{labels: originLabels(hr.Namespace, hr.Name)})
	return chain
}

func originLabels(namespace, name string) map[string]string {
	return map[string]string{helmGroup + "/name": name, helmGroup + "/namespace": namespace}
}

type postRenderChain []postrenderer.PostRenderer

func (c postRenderChain) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	out := in
	for _, pr := range c {
		var err error
		if out, err = pr.Run(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// kustomizePostRenderer runs kustomize over the rendered manifests with the
// release's patches and images, in memory, plugins disabled.
type kustomizePostRenderer struct {
	patches []kustomize.Patch
	images  []kustomize.Image
	lock    sync.Locker
}

func (k *kustomizePostRenderer) Run(in *bytes.Buffer) (out *bytes.Buffer, err error) {
	fs := filesys.MakeFsInMemory()
	const input = "helm-output.yaml"
	if err := fs.WriteFile(input, in.Bytes()); err != nil {
		return nil, err
	}
	kz := kustypes.Kustomization{
		TypeMeta:  kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind},
		Resources: []string{input},
	}
	for _, img := range k.images {
		kz.Images = append(kz.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, p := range k.patches {
		kp := kustypes.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			kp.Target = &kustypes.Selector{
				ResId:              resIDSelector(t.Group, t.Version, t.Kind, t.Name, t.Namespace),
				LabelSelector:      t.LabelSelector,
				AnnotationSelector: t.AnnotationSelector,
			}
		}
		kz.Patches = append(kz.Patches, kp)
	}
	data, err := json.Marshal(kz)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", data); err != nil {
		return nil, err
	}
	k.lock.Lock()
	defer k.lock.Unlock()
	defer func() {
		if rec := recover(); rec != nil {
			out, err = nil, fmt.Errorf("post-renderer kustomize panicked: %v", rec)
		}
	}()
	kust := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	rm, err := kust.Run(fs, ".")
	if err != nil {
		return nil, fmt.Errorf("post-renderer kustomize: %w", err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(y), nil
}

// metadataPostRenderer sets labels and annotations on every object's
// metadata (not on selectors or templates), as helm-controller does.
type metadataPostRenderer struct {
	labels, annotations map[string]string
}

func (m *metadataPostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	rm, err := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory()).NewResMapFromBytes(in.Bytes())
	if err != nil {
		return nil, fmt.Errorf("post-renderer metadata: %w", err)
	}
	if len(m.labels) > 0 {
		t := &builtins.LabelTransformerPlugin{Labels: m.labels,
			FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}}}
		if err := t.Transform(rm); err != nil {
			return nil, err
		}
	}
	if len(m.annotations) > 0 {
		t := &builtins.AnnotationsTransformerPlugin{Annotations: m.annotations,
			FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}}}
		if err := t.Transform(rm); err != nil {
			return nil, err
		}
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(y), nil
}

func resIDSelector(group, version, kind, name, namespace string) resid.ResId {
	return resid.ResId{Gvk: resid.Gvk{Group: group, Version: version, Kind: kind}, Name: name, Namespace: namespace}
}
