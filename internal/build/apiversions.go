package build

import (
	"fmt"

	"github.com/slipwayhq/slipway/internal/result"
)

// servedFluxVersions lists, per Flux group and kind, the one version the
// CRDs of Flux v2.9.5 serve (their API modules mark every older version
// +kubebuilder:skipversion: source-controller/api v1.9.5, helm-controller/api
// v1.6.4, notification-controller/api v1.9.4, image-*-controller/api
// v1.2.5). An object of another version is refused by the API server, so
// the Kustomization applying it fails as a whole. Kustomizations are
// refused when decoded (flux.DecodeKustomization).
var servedFluxVersions = map[string]map[string]string{
	"source.toolkit.fluxcd.io": {
		"GitRepository": "v1", "OCIRepository": "v1", "Bucket": "v1",
		"HelmRepository": "v1", "HelmChart": "v1",
	},
	"helm.toolkit.fluxcd.io":         {"HelmRelease": "v2"},
	"notification.toolkit.fluxcd.io": {"Alert": "v1beta3", "Provider": "v1beta3", "Receiver": "v1"},
	"image.toolkit.fluxcd.io":        {"ImageRepository": "v1", "ImagePolicy": "v1", "ImageUpdateAutomation": "v1"},
}

// unservedVersionFindings are warnings for the Flux objects of a build
// whose apiVersion Flux v2.9 no longer serves: slipway reads them as the
// current version, where such a cluster refuses them. Warnings, not
// errors: a cluster still running an older Flux (2.5 serves HelmRelease
// v2beta2) applies them, and its version is not known offline.
func unservedVersionFindings(clusterPath string, kb *result.KustomizationBuild) []result.Finding {
	var out []result.Finding
	for _, o := range kb.Objects {
		gvk := o.Object.GroupVersionKind()
		served, ok := servedFluxVersions[gvk.Group][gvk.Kind]
		if !ok || gvk.Version == served {
			continue
		}
		f := objFinding(clusterPath, kb, o, "flux", fmt.Sprintf(
			"apiVersion %s is not served by Flux v2.9 (use %s/%s): a cluster running Flux v2.9 or later refuses it, and with it the whole apply of Kustomization %s/%s",
			o.Object.GetAPIVersion(), gvk.Group, served, kb.Ref.Namespace, kb.Ref.Name))
		f.Severity = result.SeverityWarning
		out = append(out, f)
	}
	return out
}
