package build

import (
	"context"
	"fmt"
	"path"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// RootSource names the source a cluster path is synced from; the root
// Kustomization has the same name and namespace.
type RootSource struct {
	Kind, Namespace, Name string
}

func (r RootSource) String() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// DefaultRootSource is the source flux bootstrap creates.
func DefaultRootSource() RootSource {
	return RootSource{Kind: sourcev1.GitRepositoryKind, Namespace: flux.DefaultNamespace, Name: flux.DefaultNamespace}
}

// rootSourceKinds are the kinds a root can have: those Flux Operator's
// spec.sync creates.
var rootSourceKinds = []string{sourcev1.GitRepositoryKind, sourcev1.OCIRepositoryKind, sourcev1.BucketKind}

// ParseRootSource reads KIND/NAMESPACE/NAME (--root-source).
func ParseRootSource(s string) (RootSource, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return RootSource{}, fmt.Errorf("root source %q: want KIND/NAMESPACE/NAME, e.g. GitRepository/flux-system/flux-system", s)
	}
	for _, k := range rootSourceKinds {
		if strings.EqualFold(parts[0], k) {
			return RootSource{Kind: k, Namespace: parts[1], Name: parts[2]}, nil
		}
	}
	return RootSource{}, fmt.Errorf("root source %q: kind must be one of %s", s, strings.Join(rootSourceKinds, ", "))
}

func isFluxInstance(u *unstructured.Unstructured) bool {
	_, ok := flux.FluxInstanceSync(u)
	return ok
}

// adoptSync takes the root's name from a FluxInstance's spec.sync:
// repositories bootstrapped by Flux Operator have no gotk-sync.yaml, and
// their Kustomizations name the source the operator creates. The sync is
// adopted when it syncs this cluster path (its source is then this
// repository: a GitRepository of it, or an artifact pushed from its root),
// once, and never over --root-source.
func (b *Builder) adoptSync(ctx context.Context, st *clusterState, o result.Object) {
	s, _ := flux.FluxInstanceSync(o.Object)
	syncs := fmt.Sprintf("%s installs Flux (Flux Operator) and syncs %s/%s/%s, path %q", s.Via, s.Kind, s.Namespace, s.Name, s.Path)
	info := func(msg string) {
		st.findings = append(st.findings, result.Finding{Severity: result.SeverityInfo, Check: "flux", ClusterPath: st.path, Origin: o.Origin, Message: msg})
	}
	p, err := source.CleanRelative(s.Path)
	switch {
	case st.rootFixed:
		info(syncs + "; --root-source names the root instead")
		return
	case st.synced:
		info(syncs + "; another FluxInstance named the root already")
		return
	case err != nil || path.Clean(p) != path.Clean(st.path):
		info(syncs + ": not this cluster path, so it does not name its root")
		return
	case s.Kind == sourcev1.GitRepositoryKind && s.URL != "" && !b.opts.Repo.IsThisRepository(s.URL) && len(b.opts.Repo.URLs) > 0:
		info(syncs + ", from " + s.URL + ", which is not this repository's remote; slipway builds this repository as its root")
	default:
		info(syncs + ": slipway builds it as the cluster path's root")
	}
	st.synced = true
	key := refKey(s.Namespace, s.Name)
	if _, declared := st.reg.gitRepos[key]; s.Kind == sourcev1.GitRepositoryKind && !declared {
		// The operator creates it: its ref tells rootRefFinding which
		// commit Flux reads.
		st.reg.gitRepos[key] = syncGitRepository(s)
		st.reg.origins[key] = o.Origin
	}
	rootKB := st.byRef[st.root.ref()]
	if rootKB == nil {
		return
	}
	b.adoptRoot(ctx, st, st.root, rootKB, syncKustomization(s, st.path), o.Origin)
}

// syncKustomization is the Kustomization the operator creates for a sync.
func syncKustomization(s flux.InstanceSync, clusterPath string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace},
		Spec: kustomizev1.KustomizationSpec{
			Path:      "./" + clusterPath,
			Prune:     true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace},
		},
	}
}

// syncGitRepository is the GitRepository the operator creates: sync.ref is
// a Git reference name (refs/heads/main); a bare name is taken as a branch.
func syncGitRepository(s flux.InstanceSync) *sourcev1.GitRepository {
	gr := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace},
		Spec:       sourcev1.GitRepositorySpec{URL: s.URL},
	}
	switch {
	case strings.HasPrefix(s.Ref, "refs/"):
		gr.Spec.Reference = &sourcev1.GitRepositoryRef{Name: s.Ref}
	case s.Ref != "":
		gr.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: s.Ref}
	}
	return gr
}
