package result

import (
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

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
	// Spec is the decoded HelmRelease (install/upgrade/uninstall options,
	// remediation); nil when it did not decode.
	Spec *helmv2.HelmRelease `json:"-"`
	// ChartArchive is the packaged chart (.tgz) in the chart cache, so the
	// release step installs exactly what was rendered without fetching again.
	ChartArchive string `json:"-"`
	// Values are the composed values. They may hold secret values: never
	// print them; compare ValuesDigest instead.
	Values   map[string]any `json:"-"`
	Duration time.Duration  `json:"duration"`
	// Err is why it could not be rendered (chart not found, values that do
	// not parse, template errors); nil when rendered.
	Err error `json:"-"`
}

// ReleaseAction is what happened to a Helm release.
type ReleaseAction string

const (
	ReleaseInstalled   ReleaseAction = "installed"
	ReleaseUpgraded    ReleaseAction = "upgraded"
	ReleaseUnchanged   ReleaseAction = "unchanged"
	ReleaseRolledBack  ReleaseAction = "rolled back"
	ReleaseUninstalled ReleaseAction = "uninstalled"
	ReleaseSkipped     ReleaseAction = "skipped"
	ReleaseFailed      ReleaseAction = "failed"
)

// ReleaseDeploy is the outcome of installing, upgrading or uninstalling one
// HelmRelease as a real Helm release.
type ReleaseDeploy struct {
	Ref         KustomizationRef `json:"helmRelease"`
	ReleaseName string           `json:"releaseName"`
	Namespace   string           `json:"storageNamespace"`
	Action      ReleaseAction    `json:"action"`
	// Revision is the Helm release revision after the action (0 if none).
	Revision int      `json:"revision,omitempty"`
	Chart    ChartRef `json:"chart"`
	Message  string   `json:"message,omitempty"`
	Origin   Origin   `json:"origin,omitempty"`
	// Drift lists release objects whose live state differs from the
	// release manifest (changed by hand), when checked.
	Drift    []ObjectID    `json:"drift,omitempty"`
	Duration time.Duration `json:"duration"`
}
