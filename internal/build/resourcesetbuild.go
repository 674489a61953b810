package build

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
// A ResourceSet with inputsFrom waits (st.waitingSets) until nothing else
// can be built: the operator selects among every provider in the cluster,
// and a provider may be declared by a Kustomization built later.
func (b *Builder) expandResourceSets(st *clusterState, kb *result.KustomizationBuild, u *unit) {
	before := len(kb.Objects)
	defer func() {
		// What they generate is built output too (substituteFrom, promises).
		st.indexVars(&result.KustomizationBuild{Ref: kb.Ref, Objects: kb.Objects[before:]})
	}()
	var providers []*flux.ResourceSetInputProvider
	for _, o := range kb.Objects[:before] {
		if !flux.IsResourceSet(o.Object) {
			continue
		}
		rs, err := flux.DecodeResourceSet(o.Object)
		if err != nil {
			st.findings = append(st.findings, objFinding(st.path, kb, o, "flux", err.Error()))
			continue
		}
		st.resourceSets = append(st.resourceSets, declaredResourceSet{rs: rs, origin: o.Origin, by: kb.Ref})
		if len(rs.Spec.InputsFrom) > 0 {
			st.waitingSets = append(st.waitingSets, waitingSet{rs: rs, o: o, kb: kb, u: u})
			continue
		}
		if !st.renderInto(kb, o, rs, providers, st.lookup, false) {
			// A copyFrom source not built yet: a later Kustomization may.
			st.waitingSets = append(st.waitingSets, waitingSet{rs: rs, o: o, kb: kb, u: u})
		}
	}
}

// waitingSet is a ResourceSet with inputsFrom, rendered once every input
// provider the cluster path declares may be known.
type waitingSet struct {
	rs *flux.ResourceSet
	o  result.Object
	kb *result.KustomizationBuild
	u  *unit
}

// renderWaitingSets renders the waiting ResourceSets whose named providers
// all exist now (selectors take what exists), or, when none is ready, all
// of them (a missing provider is then an error at its ResourceSet). The
// sources of copyFrom are then looked for among the external objects too
// (the cluster's), and one found nowhere is an error. It
// returns the Kustomizations their objects declare, still to be built, and
// whether it rendered anything.
func (b *Builder) renderWaitingSets(ctx context.Context, st *clusterState) ([]*unit, bool) {
	if len(st.waitingSets) == 0 {
		return nil, false
	}
	providers := st.inputProviders(nil)
	var ready, rest []waitingSet
	for _, w := range st.waitingSets {
		if namedProvidersExist(w.rs, providers) {
			ready = append(ready, w)
		} else {
			rest = append(rest, w)
		}
	}
	if len(ready) == 0 {
		ready, rest = rest, nil
	}
	st.waitingSets = rest
	var next []*unit
	for _, w := range ready {
		before := len(w.kb.Objects)
		st.renderInto(w.kb, w.o, w.rs, providers, st.secretLookup(b.opts.External), true)
		added := &result.KustomizationBuild{Ref: w.kb.Ref, Objects: w.kb.Objects[before:]}
		st.indexVars(added)
		next = append(next, b.discover(ctx, st, w.u, added)...)
	}
	return next, true
}

// namedProvidersExist reports whether every provider rs names is among
// providers.
func namedProvidersExist(rs *flux.ResourceSet, providers []*flux.ResourceSetInputProvider) bool {
	for _, ref := range rs.Spec.InputsFrom {
		if ref.Name != "" && findProvider(providers, rs.Namespace, ref.Name) == nil {
			return false
		}
	}
	return true
}

// renderInto renders one ResourceSet and appends what it generates to
// kb's output, or records why it cannot be rendered. copySource finds the
// objects copyFrom annotations name; before the final attempt a missing
// one is not an error yet (a later Kustomization may build it): it
// returns false, nothing done.
func (st *clusterState) renderInto(kb *result.KustomizationBuild, o result.Object, rs *flux.ResourceSet, providers []*flux.ResourceSetInputProvider,
	copySource func(kind, namespace, name string) (*unstructured.Unstructured, bool), final bool) bool {
	if len(rs.Spec.InputsFrom) > 0 {
		providers = st.inputProviders(kb)
	}
	rendered, err := renderResourceSet(rs, providers)
	if err == nil {
		err = copyData(rendered, copySource)
		var ce *CopyFromError
		if errors.As(err, &ce) && !ce.Invalid && !final {
			return false
		}
	}
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
		return true
	}
	by := flux.ResourceSetKind + "/" + rs.Namespace + "/" + rs.Name
	for _, u := range rendered {
		// A full slice expression: a reused build may share its array.
		kb.Objects = append(kb.Objects[:len(kb.Objects):len(kb.Objects)], result.Object{Object: u, Origin: o.Origin, GeneratedBy: by})
		if u.GetKind() == "Secret" && u.GetAPIVersion() == "v1" {
			// Masked wherever they would surface, as built Secrets are.
			for _, v := range kube.DataValues(u) {
				st.sensitive = append(st.sensitive, v)
			}
		}
	}
	return true
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
	waiting := st.waitingSets[:0]
	for _, w := range st.waitingSets {
		if w.kb.Ref != ref {
			waiting = append(waiting, w)
		}
	}
	st.waitingSets = waiting
}

// inputProviders decodes the ResourceSetInputProviders built so far.
func (st *clusterState) inputProviders(current *result.KustomizationBuild) []*flux.ResourceSetInputProvider {
	var out []*flux.ResourceSetInputProvider
	seen := map[*result.KustomizationBuild]bool{}
	for _, kb := range append(append([]*result.KustomizationBuild(nil), st.order...), current) {
		if kb == nil || seen[kb] {
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
