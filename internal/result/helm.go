package result

import "time"

// ChartRef says which chart a HelmRelease resolved to.
type ChartRef struct {
	// Name of the chart (Chart.yaml name).
	Name string `json:"name"`
	// Version is the resolved chart version (not the constraint).
	Version string `json:"version"`
	// Source is where it came from: a repository URL, an OCI reference or
	// a Git URL with the chart path.
	Source string `json:"source"`
	// Digest identifies the chart content (OCI digest or sha256 of the
	// packaged chart), so an unchanged chart is recognised.
	Digest string `json:"digest,omitempty"`
}

// ReleaseBuild is one HelmRelease rendered as helm-controller would render
// it. It hangs off the KustomizationBuild that produced the HelmRelease
// object; the HelmRelease object itself stays in that build's Objects.
type ReleaseBuild struct {
	// Ref is the HelmRelease's namespace and name.
	Ref KustomizationRef `json:"helmRelease"`
	// Origin is the file and line of the HelmRelease object.
	Origin Origin `json:"origin,omitempty"`
	// ReleaseName, Namespace (where the chart's objects go by default) and
	// StorageNamespace (where Helm keeps the release) as helm-controller
	// computes them.
	ReleaseName      string   `json:"releaseName"`
	Namespace        string   `json:"namespace"`
	StorageNamespace string   `json:"storageNamespace"`
	Chart            ChartRef `json:"chart"`
	// ValuesDigest is a digest of the composed values, so "nothing changed"
	// can be decided without comparing (possibly secret) values.
	ValuesDigest string `json:"valuesDigest,omitempty"`
	// Objects are the rendered manifests (hooks excluded), each with the
	// HelmRelease's origin. CRDs holds the chart's crds/ objects that the
	// install/upgrade CRD policy includes.
	Objects []Object `json:"-"`
	CRDs    []Object `json:"-"`
	// DependsOn are the HelmRelease's spec.dependsOn, namespaced.
	DependsOn []KustomizationRef `json:"dependsOn,omitempty"`
	Suspended bool               `json:"suspended,omitempty"`
	Duration  time.Duration      `json:"duration"`
	// Err is why it could not be rendered (chart not found, values that do
	// not parse, template errors); nil when rendered.
	Err error `json:"-"`
}
