package flux

import (
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// API groups and kinds slipway interprets rather than applies.
const (
	KustomizeGroup        = "kustomize.toolkit.fluxcd.io"
	SourceGroup           = "source.toolkit.fluxcd.io"
	SourceExtGroup        = "source.extensions.fluxcd.io"
	HelmGroup             = "helm.toolkit.fluxcd.io"
	KustomizationKind     = "Kustomization"
	GitRepositoryKind     = "GitRepository"
	OCIRepositoryKind     = "OCIRepository"
	BucketKind            = "Bucket"
	ExternalArtifactKind  = "ExternalArtifact"
	ArtifactGeneratorKind = "ArtifactGenerator"
	HelmReleaseKind       = "HelmRelease"

	// DefaultNamespace is where bootstrap puts Flux's own objects.
	DefaultNamespace = "flux-system"
)

// IsKustomization reports whether u is a Flux Kustomization (not a
// kustomize.config.k8s.io one, which never appears in a build output).
func IsKustomization(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == KustomizeGroup && gvk.Kind == KustomizationKind
}

// DecodeError says why a Flux object could not be typed.
type DecodeError struct {
	Kind, Namespace, Name string
	Err                   error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s/%s: %v", e.Kind, e.Namespace, e.Name, e.Err)
}
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeStrict(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		return &DecodeError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Err: err}
	}
	return nil
}

// DecodeKustomization types a Flux Kustomization, refusing unknown fields
// and applying the defaults the CRD would (sourceRef namespace).
func DecodeKustomization(u *unstructured.Unstructured) (*kustomizev1.Kustomization, error) {
	if v := u.GetAPIVersion(); v != kustomizev1.GroupVersion.String() {
		return nil, &DecodeError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
			Err: fmt.Errorf("apiVersion %s is not supported, use %s", v, kustomizev1.GroupVersion)}
	}
	ks := &kustomizev1.Kustomization{}
	if err := decodeStrict(u, ks); err != nil {
		return nil, err
	}
	if ks.Namespace == "" {
		ks.Namespace = DefaultNamespace
	}
	if ks.Spec.SourceRef.Namespace == "" {
		ks.Spec.SourceRef.Namespace = ks.Namespace
	}
	return ks, nil
}

// DecodeGitRepository types a GitRepository.
func DecodeGitRepository(u *unstructured.Unstructured) (*sourcev1.GitRepository, error) {
	gr := &sourcev1.GitRepository{}
	if err := decodeStrict(u, gr); err != nil {
		return nil, err
	}
	return gr, nil
}

// ArtifactGenerator mirrors source.extensions.fluxcd.io/v1beta1. Written by
// hand: Flux's source-watcher API module is not available on the module
// proxy this project builds from; only the fields slipway needs are here.
type ArtifactGenerator struct {
	Namespace string
	Name      string
	Spec      ArtifactGeneratorSpec `json:"spec"`
}

// ArtifactGeneratorSpec lists the sources and the artifacts built from them.
type ArtifactGeneratorSpec struct {
	Sources   []ArtifactSource `json:"sources"`
	Artifacts []OutputArtifact `json:"artifacts"`
}

// ArtifactSource is an input of an ArtifactGenerator, named by its alias.
type ArtifactSource struct {
	Alias     string `json:"alias"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// OutputArtifact is one ExternalArtifact an ArtifactGenerator produces.
type OutputArtifact struct {
	Name           string          `json:"name"`
	Revision       string          `json:"revision,omitempty"`
	OriginRevision string          `json:"originRevision,omitempty"`
	Copy           []CopyOperation `json:"copy"`
}

// CopyOperation copies files from an aliased source into the artifact.
type CopyOperation struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Exclude  []string `json:"exclude,omitempty"`
	Strategy string   `json:"strategy,omitempty"`
}

// DecodeArtifactGenerator types an ArtifactGenerator.
func DecodeArtifactGenerator(u *unstructured.Unstructured) (*ArtifactGenerator, error) {
	ag := &ArtifactGenerator{Namespace: u.GetNamespace(), Name: u.GetName()}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(spec, &ag.Spec, true); err != nil {
		return nil, &DecodeError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Err: err}
	}
	if ag.Namespace == "" {
		ag.Namespace = DefaultNamespace
	}
	return ag, nil
}

// DecodeOCIRepository types an OCIRepository.
func DecodeOCIRepository(u *unstructured.Unstructured) (*sourcev1.OCIRepository, error) {
	or := &sourcev1.OCIRepository{}
	if err := decodeStrict(u, or); err != nil {
		return nil, err
	}
	return or, nil
}

// DecodeBucket types a Bucket.
func DecodeBucket(u *unstructured.Unstructured) (*sourcev1.Bucket, error) {
	bk := &sourcev1.Bucket{}
	if err := decodeStrict(u, bk); err != nil {
		return nil, err
	}
	return bk, nil
}
