package result

import (
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Origin says where an object, or a finding, came from in the repository.
type Origin struct {
	// File is relative to the repository root, with forward slashes.
	File string `json:"file,omitempty"`
	// Line is 1-based; 0 when unknown (generated objects).
	Line int `json:"line,omitempty"`
}

func (o Origin) String() string {
	switch {
	case o.File == "":
		return ""
	case o.Line > 0:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	default:
		return o.File
	}
}

// ObjectID identifies an object the way Flux's inventory does.
type ObjectID struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// IDOf returns the ID of an unstructured object.
func IDOf(u *unstructured.Unstructured) ObjectID {
	gvk := u.GroupVersionKind()
	return ObjectID{Group: gvk.Group, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// String renders Kind/namespace/name, as the Flux CLI prints objects.
func (id ObjectID) String() string {
	if id.Namespace == "" {
		return id.Kind + "/" + id.Name
	}
	return id.Kind + "/" + id.Namespace + "/" + id.Name
}

// InventoryKey is Flux's inventory entry form: <ns>_<name>_<group>_<kind>.
func (id ObjectID) InventoryKey() string {
	return id.Namespace + "_" + id.Name + "_" + id.Group + "_" + id.Kind
}

// Object is one rendered Kubernetes object and where it came from.
type Object struct {
	Object *unstructured.Unstructured
	Origin Origin
	// Encrypted is true for a SOPS-encrypted object that could not be
	// decrypted (no key); its data must not be applied.
	Encrypted bool
	// GeneratedBy is "ResourceSet/<ns>/<name>" for an object Flux Operator
	// renders from a ResourceSet in the build: in the cluster the operator
	// applies it, not the Kustomization that applied the ResourceSet.
	GeneratedBy string
}

// ID returns the object's ID.
func (o Object) ID() ObjectID { return IDOf(o.Object) }

// KustomizationRef names a Flux Kustomization.
type KustomizationRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r KustomizationRef) String() string { return r.Namespace + "/" + r.Name }

// Severity of a finding.
type Severity string

// Severities, most severe first.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one thing slipway has to say about a cluster path.
type Finding struct {
	Severity      Severity          `json:"severity"`
	Check         string            `json:"check"`
	ClusterPath   string            `json:"clusterPath"`
	Kustomization *KustomizationRef `json:"kustomization,omitempty"`
	Object        *ObjectID         `json:"object,omitempty"`
	Origin        Origin            `json:"origin,omitempty"`
	Message       string            `json:"message"`
}

// KustomizationBuild is the build output of one Flux Kustomization.
type KustomizationBuild struct {
	Ref KustomizationRef
	// Spec is the Kustomization object as found in the repository
	// (after its parent's substitution).
	Spec *kustomizev1.Kustomization
	// Path is the source-relative spec.path, cleaned.
	Path string
	// Source names where the files came from ("" for this repository).
	Source string
	// Origin is the file and line of the Kustomization object itself.
	Origin    Origin
	Objects   []Object
	DependsOn []KustomizationRef
	// Files lists the repository files the build read (sorted), so a diff
	// can tell which Kustomizations a change touches.
	Files    []string
	Duration time.Duration
	// Err is set when the Kustomization could not be built.
	Err error
	// Suspended Kustomizations are built and validated, never applied.
	Suspended bool
	// Releases are the HelmReleases among Objects, rendered.
	Releases []*ReleaseBuild
}

// ClusterBuild is everything one cluster path builds to.
type ClusterBuild struct {
	Path           string
	Kustomizations []*KustomizationBuild
	Findings       []Finding
	Duration       time.Duration
	// Sensitive holds every secret value the build saw (Secret data,
	// decrypted or not, and variables substituted from Secrets), so that
	// renderers can mask them wherever they would surface. Never rendered.
	Sensitive []string `json:"-"`
	// ReadFile reads a file of the repository, by the repository-relative
	// path an Origin names, as the build read it (the checkout or the
	// revision built), so a check can point at a line inside an object.
	// Nil when not available.
	ReadFile func(rel string) ([]byte, error) `json:"-"`
}

// HasErrors reports whether any finding is an error.
func (c *ClusterBuild) HasErrors() bool {
	for _, f := range c.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
