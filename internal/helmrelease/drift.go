package helmrelease

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/slipwayhq/slipway/internal/result"
)

// Helm's ownership metadata, added to every object it applies (pkg/action
// setMetadataVisitor); the stored manifest does not carry it, so it is put
// back before comparing, or every object would look drifted.
const (
	helmManagedByLabel        = "app.kubernetes.io/managed-by"
	helmManagedByValue        = "Helm"
	helmReleaseNameAnnotation = "meta.helm.sh/release-name"
	helmReleaseNSAnnotation   = "meta.helm.sh/release-namespace"
)

// fieldManager is the field manager Helm applies with (pkg/kube
// getManagedFieldsManager): the one that owns the release's fields.
func fieldManager() string {
	if kube.ManagedFieldsManager != "" {
		return kube.ManagedFieldsManager
	}
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "unknown"
	}
	return filepath.Base(os.Args[0])
}

// checkDrift compares the live objects of rel with its manifest, as
// helm-controller's drift detection does: a server-side apply dry-run of
// each manifest object as Helm's field manager, compared with the live
// object. Drifted objects are listed in the result; with
// driftDetection.mode "enabled" they are applied again (corrected).
// Failing to check is reported in the message, not as a failed release.
func (run *releaseRun) checkDrift(rel *release.Release) {
	if run.ctx.Err() != nil {
		return
	}
	drifted, infos, err := detectDrift(run.cfg.KubeClient, rel)
	if err != nil {
		run.rd.Message += fmt.Sprintf("; drift check failed: %v", err)
		return
	}
	if len(drifted) == 0 {
		return
	}
	run.rd.Drift = append(run.rd.Drift, drifted...)
	run.log("release %s: %d object(s) drifted from the release manifest", rel.Name, len(drifted))
	if run.hr.GetDriftDetection().GetMode() != helmv2.DriftDetectionEnabled {
		run.rd.Message += fmt.Sprintf("; %d object(s) drifted", len(drifted))
		return
	}
	for _, info := range infos {
		if _, err := applyAsHelm(info, false); err != nil {
			run.rd.Message += fmt.Sprintf("; correcting drift of %s failed: %v", infoID(info), err)
			return
		}
	}
	run.rd.Message += fmt.Sprintf("; corrected drift of %d object(s)", len(drifted))
}

// detectDrift returns the IDs and infos of the release's objects whose live
// state differs from the manifest, or that are missing.
func detectDrift(kc kube.Interface, rel *release.Release) ([]result.ObjectID, []*resource.Info, error) {
	if rel.Manifest == "" {
		return nil, nil, nil
	}
	list, err := kc.Build(bytes.NewBufferString(rel.Manifest), false)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the release manifest: %w", err)
	}
	var ids []result.ObjectID
	var drifted []*resource.Info
	for _, info := range list {
		if err := addHelmMetadata(info, rel); err != nil {
			return nil, nil, err
		}
		same, err := matchesManifest(info)
		if err != nil {
			return nil, nil, err
		}
		if !same {
			ids, drifted = append(ids, infoID(info)), append(drifted, info)
		}
	}
	return ids, drifted, nil
}

// matchesManifest reports whether applying info's object would leave the
// live object as it is. Controllers write objects all the time (a rollout
// in progress), so a comparison is only trusted when the live object did
// not change while it was made.
func matchesManifest(info *resource.Info) (bool, error) {
	objects := resource.NewHelper(info.Client, info.Mapping)
	for attempt := 0; attempt < driftAttempts; attempt++ {
		before, err := objects.Get(info.Namespace, info.Name)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", infoID(info), err)
		}
		want, err := applyAsHelm(info, true)
		if err != nil {
			return false, fmt.Errorf("dry-run apply of %s: %w", infoID(info), err)
		}
		after, err := objects.Get(info.Namespace, info.Name)
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", infoID(info), err)
		}
		if resourceVersion(before) == resourceVersion(after) {
			return sameState(after, want), nil
		}
	}
	return false, fmt.Errorf("%s kept changing while it was compared", infoID(info))
}

// driftAttempts bounds the comparisons of an object that keeps changing.
const driftAttempts = 5

func resourceVersion(obj runtime.Object) string {
	if m, err := meta.Accessor(obj); err == nil {
		return m.GetResourceVersion()
	}
	return ""
}

func addHelmMetadata(info *resource.Info, rel *release.Release) error {
	u, ok := info.Object.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("unexpected object type %T in the release manifest", info.Object)
	}
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[helmManagedByLabel] = helmManagedByValue
	u.SetLabels(labels)
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[helmReleaseNameAnnotation] = rel.Name
	ann[helmReleaseNSAnnotation] = rel.Namespace
	u.SetAnnotations(ann)
	return nil
}

// applyAsHelm server-side applies info's object as Helm's field manager,
// forcing conflicts; dryRun only computes the result.
func applyAsHelm(info *resource.Info, dryRun bool) (runtime.Object, error) {
	data, err := runtime.Encode(unstructured.UnstructuredJSONScheme, info.Object)
	if err != nil {
		return nil, err
	}
	force := true
	return resource.NewHelper(info.Client, info.Mapping).
		DryRun(dryRun).
		WithFieldManager(fieldManager()).
		Patch(info.Namespace, info.Name, types.ApplyPatchType, data, &metav1.PatchOptions{Force: &force})
}

// sameState compares a live object with what applying the manifest would
// make of it, ignoring what every write changes and the status, which
// controllers own (helm-controller's drift detection ignores it too).
func sameState(live, want runtime.Object) bool {
	a, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
	if err != nil {
		return false
	}
	b, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
	if err != nil {
		return false
	}
	for _, m := range []map[string]any{a, b} {
		unstructured.RemoveNestedField(m, "metadata", "managedFields")
		unstructured.RemoveNestedField(m, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(m, "metadata", "generation")
		unstructured.RemoveNestedField(m, "status")
	}
	return equality.Semantic.DeepEqual(a, b)
}

func infoID(info *resource.Info) result.ObjectID {
	gvk := info.Mapping.GroupVersionKind
	return result.ObjectID{Group: gvk.Group, Kind: gvk.Kind, Namespace: info.Namespace, Name: info.Name}
}
