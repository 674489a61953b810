package flux

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Flux Operator kinds slipway renders (the group is OperatorGroup).
const (
	ResourceSetKind              = "ResourceSet"
	ResourceSetInputProviderKind = "ResourceSetInputProvider"
	// InputProviderStatic is the provider type whose inputs are its own
	// spec.defaultValues: the only one that needs no external service.
	InputProviderStatic = "Static"
	// Input strategies: Flatten (default) lists every input set; Permute
	// combines one input set of each provider.
	InputStrategyFlatten = "Flatten"
	InputStrategyPermute = "Permute"
)

// ResourceSet mirrors fluxcd.controlplane.io/v1 ResourceSet. Written by
// hand: the operator's module (github.com/controlplaneio-fluxcd/flux-operator
// v0.59.0, whose api/v1 is not a module of its own) needs Go 1.27, newer
// than this project builds with. Field names and JSON tags follow its
// api/v1/resourceset_types.go.
type ResourceSet struct {
	Namespace string
	Name      string
	Spec      ResourceSetSpec `json:"spec"`
}

// ResourceSetSpec is what the operator renders.
type ResourceSetSpec struct {
	CommonMetadata     *CommonMetadata          `json:"commonMetadata,omitempty"`
	InputStrategy      *InputStrategySpec       `json:"inputStrategy,omitempty"`
	Inputs             []map[string]any         `json:"inputs,omitempty"`
	InputsFrom         []InputProviderReference `json:"inputsFrom,omitempty"`
	Resources          []*apiextensionsv1.JSON  `json:"resources,omitempty"`
	ResourcesTemplate  string                   `json:"resourcesTemplate,omitempty"`
	Steps              []ResourceSetStep        `json:"steps,omitempty"`
	DependsOn          []ResourceSetDependency  `json:"dependsOn,omitempty"`
	ServiceAccountName string                   `json:"serviceAccountName,omitempty"`
	Wait               bool                     `json:"wait,omitempty"`
}

// CommonMetadata are labels and annotations added to every object.
type CommonMetadata struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// InputStrategySpec says how the inputs of several providers combine:
// Flatten (default) or Permute.
type InputStrategySpec struct {
	Name                  string `json:"name,omitempty"`
	IncludeEmptyProviders bool   `json:"includeEmptyProviders,omitempty"`
}

// InputProviderReference names ResourceSetInputProviders of the
// ResourceSet's namespace, by name or by label selector.
type InputProviderReference struct {
	APIVersion string                `json:"apiVersion,omitempty"`
	Kind       string                `json:"kind,omitempty"`
	Name       string                `json:"name,omitempty"`
	Selector   *metav1.LabelSelector `json:"selector,omitempty"`
}

// ResourceSetStep is one stage of resources, applied in order.
type ResourceSetStep struct {
	Name              string                  `json:"name"`
	Resources         []*apiextensionsv1.JSON `json:"resources,omitempty"`
	ResourcesTemplate string                  `json:"resourcesTemplate,omitempty"`
	Timeout           *metav1.Duration        `json:"timeout,omitempty"`
}

// ResourceSetDependency is an object the operator waits for.
type ResourceSetDependency struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
	Ready      bool   `json:"ready,omitempty"`
	ReadyExpr  string `json:"readyExpr,omitempty"`
}

// ResourceSetInputProvider mirrors the fields of
// fluxcd.controlplane.io/v1 ResourceSetInputProvider slipway reads.
type ResourceSetInputProvider struct {
	Namespace string
	Name      string
	Labels    map[string]string
	Spec      struct {
		Type          string         `json:"type"`
		DefaultValues map[string]any `json:"defaultValues,omitempty"`
	} `json:"spec"`
}

// IsResourceSet reports whether u is a Flux Operator ResourceSet.
func IsResourceSet(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == OperatorGroup && gvk.Kind == ResourceSetKind
}

// IsResourceSetInputProvider reports whether u is a ResourceSetInputProvider.
func IsResourceSetInputProvider(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == OperatorGroup && gvk.Kind == ResourceSetInputProviderKind
}

// DecodeResourceSet types a ResourceSet. Fields slipway does not model
// are ignored, not refused: the operator's API grows faster than this copy.
func DecodeResourceSet(u *unstructured.Unstructured) (*ResourceSet, error) {
	rs := &ResourceSet{Namespace: u.GetNamespace(), Name: u.GetName()}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &rs.Spec); err != nil {
		return nil, &DecodeError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Err: err}
	}
	return rs, nil
}

// DecodeResourceSetInputProvider types a ResourceSetInputProvider.
func DecodeResourceSetInputProvider(u *unstructured.Unstructured) (*ResourceSetInputProvider, error) {
	p := &ResourceSetInputProvider{Namespace: u.GetNamespace(), Name: u.GetName(), Labels: u.GetLabels()}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &p.Spec); err != nil {
		return nil, &DecodeError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Err: err}
	}
	return p, nil
}
