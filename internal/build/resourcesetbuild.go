package build

import (
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
)

// declaredResourceSet is a ResourceSet found in a build, kept to check its
// dependsOn once the whole cluster path is built.
type declaredResourceSet struct {
	rs     *flux.ResourceSet
	origin result.Origin
	by     result.KustomizationRef
}

// expandResourceSets renders the ResourceSets of a build and adds the
// objects the operator would apply to that build's output, attributed to
// the ResourceSet's file and line. They are then treated as any built
// object: Kustomizations and HelmReleases among them are built in turn.
// Input providers are looked for in what the cluster path has built so
// far, this build included.
func (b *Builder) expandResourceSets(st *clusterState, kb *result.KustomizationBuild) {
	var sets []result.Object
	for _, o := range kb.Objects {
		if flux.IsResourceSet(o.Object) {
			sets = append(sets, o)
		}
	}
	if len(sets) == 0 {
		return
	}
	providers := st.inputProviders(kb)
	objects := append([]result.Object(nil), kb.Objects...)
	for _, o := range sets {
		rs, err := flux.DecodeResourceSet(o.Object)
		if err != nil {
			st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
			continue
		}
		st.resourceSets = append(st.resourceSets, declaredResourceSet{rs: rs, origin: o.Origin, by: kb.Ref})
		rendered, err := renderResourceSet(rs, providers)
		if err != nil {
			f := objFinding(st.path, kb, o, "resourceset", fmt.Sprintf("rendering ResourceSet %s/%s: %v", rs.Namespace, rs.Name, err))
			var pe *ProviderInputsError
			if errors.As(err, &pe) {
				// Not wrong, only unknown: the operator renders it in the
				// cluster. The objects are missing from this build.
				f.Severity = result.SeverityWarning
				f.Message += "; the objects it generates are not part of this build"
			}
			st.findings = append(st.findings, f)
			continue
		}
		by := flux.ResourceSetKind + "/" + rs.Namespace + "/" + rs.Name
		for _, u := range rendered {
			objects = append(objects, result.Object{Object: u, Origin: o.Origin, GeneratedBy: by})
			if u.GetKind() == "Secret" && u.GetAPIVersion() == "v1" {
				// Masked wherever they would surface, as built Secrets are.
				for _, v := range kube.DataValues(u) {
					st.sensitive = append(st.sensitive, v)
				}
			}
		}
	}
	kb.Objects = objects
}

// forgetResourceSets drops the ResourceSets of a build about to be
// replaced (the root rebuilt with its real spec), so each is checked once.
func (st *clusterState) forgetResourceSets(ref result.KustomizationRef) {
	kept := st.resourceSets[:0]
	for _, d := range st.resourceSets {
		if d.by != ref {
			kept = append(kept, d)
		}
	}
	st.resourceSets = kept
}

// inputProviders decodes the ResourceSetInputProviders built so far.
func (st *clusterState) inputProviders(current *result.KustomizationBuild) []*flux.ResourceSetInputProvider {
	var out []*flux.ResourceSetInputProvider
	seen := map[*result.KustomizationBuild]bool{}
	for _, kb := range append(append([]*result.KustomizationBuild(nil), st.order...), current) {
		if seen[kb] {
			continue
		}
		seen[kb] = true
		for _, o := range kb.Objects {
			if !flux.IsResourceSetInputProvider(o.Object) {
				continue
			}
			if p, err := flux.DecodeResourceSetInputProvider(o.Object); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// resourceSetDependencyFindings warns about a ResourceSet's dependsOn
// naming an object the cluster path does not build: the operator holds
// the ResourceSet until it exists (readiness is not evaluated offline).
func resourceSetDependencyFindings(st *clusterState) []result.Finding {
	if len(st.resourceSets) == 0 {
		return nil
	}
	built := map[string]bool{}
	for _, kb := range st.order {
		for _, o := range kb.Objects {
			u := o.Object
			built[u.GroupVersionKind().Group+"/"+u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName()] = true
		}
	}
	var out []result.Finding
	for _, d := range st.resourceSets {
		for _, dep := range d.rs.Spec.DependsOn {
			group, _, _ := cutGroup(dep.APIVersion)
			if built[group+"/"+dep.Kind+"/"+dep.Namespace+"/"+dep.Name] || isRootSource(st, group, dep.Kind, dep.Namespace, dep.Name) {
				continue
			}
			by := d.by
			out = append(out, result.Finding{Severity: result.SeverityWarning, Check: "resourceset", ClusterPath: st.path, Kustomization: &by, Origin: d.origin,
				Message: fmt.Sprintf("ResourceSet %s/%s depends on %s, which this cluster path does not build: the operator waits until it exists in the cluster", d.rs.Namespace, d.rs.Name,
					result.ObjectID{Group: group, Kind: dep.Kind, Namespace: dep.Namespace, Name: dep.Name})})
		}
	}
	return out
}

// cutGroup splits an apiVersion into group and version ("v1" has no group).
func cutGroup(apiVersion string) (group, version string, ok bool) {
	for i := len(apiVersion) - 1; i >= 0; i-- {
		if apiVersion[i] == '/' {
			return apiVersion[:i], apiVersion[i+1:], true
		}
	}
	return "", apiVersion, false
}

// isRootSource reports whether a dependency is the root source, which
// exists whenever the cluster path is synced, whether or not the
// repository declares it.
func isRootSource(st *clusterState, group, kind, namespace, name string) bool {
	return group == flux.SourceGroup && kind == st.reg.rootKind && refKey(namespace, name) == st.reg.rootRef
}
