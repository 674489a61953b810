package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"helm.sh/helm/v4/pkg/postrenderer"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
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
	labels, annotations := releaseMetadata(hr)
	return append(chain, &metadataPostRenderer{labels: labels, annotations: annotations})
}

// hasKustomizePostRenderers reports whether the HelmRelease asks for
// kustomize post-rendering (beyond the metadata every release gets).
func hasKustomizePostRenderers(hr *helmv2.HelmRelease) bool {
	for _, pr := range hr.Spec.PostRenderers {
		if pr.Kustomize != nil {
			return true
		}
	}
	return false
}

// releaseMetadata is what helm-controller puts on every object of a
// release: commonMetadata, then the origin labels, which win on a
// collision.
func releaseMetadata(hr *helmv2.HelmRelease) (labels, annotations map[string]string) {
	labels = map[string]string{}
	if cm := hr.Spec.CommonMetadata; cm != nil {
		for k, v := range cm.Labels {
			labels[k] = v
		}
		annotations = cm.Annotations
	}
	for k, v := range originLabels(hr.Namespace, hr.Name) {
		labels[k] = v
	}
	return labels, annotations
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
	// Straight on the YAML nodes: kustomize's resource map and label
	// transformer did the same at several times the cost (a quarter of a
	// warm render), and this runs on every release.
	nodes, err := kio.FromBytes(in.Bytes())
	if err != nil {
		return nil, fmt.Errorf("post-renderer metadata: %w", err)
	}
	for _, n := range nodes {
		if len(m.labels) > 0 {
			if err := setMetadata(n, "labels", m.labels); err != nil {
				return nil, fmt.Errorf("post-renderer metadata: %w", err)
			}
		}
		if len(m.annotations) > 0 {
			if err := setMetadata(n, "annotations", m.annotations); err != nil {
				return nil, fmt.Errorf("post-renderer metadata: %w", err)
			}
		}
	}
	out, err := kio.StringAll(nodes)
	if err != nil {
		return nil, err
	}
	return bytes.NewBufferString(out), nil
}

// setMetadata sets keys of metadata.labels or metadata.annotations,
// creating the map when missing and leaving other keys as they are.
func setMetadata(n *kyaml.RNode, field string, values map[string]string) error {
	m, err := n.Pipe(kyaml.LookupCreate(kyaml.MappingNode, "metadata", field))
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := m.PipeE(kyaml.SetField(k, kyaml.NewStringRNode(values[k]))); err != nil {
			return err
		}
	}
	return nil
}

func resIDSelector(group, version, kind, name, namespace string) resid.ResId {
	return resid.ResId{Gvk: resid.Gvk{Group: group, Version: version, Kind: kind}, Name: name, Namespace: namespace}
}
