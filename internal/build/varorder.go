package build

import (
	"fmt"

	"github.com/slipwayhq/slipway/internal/result"
)

// substituteOrderFindings warns about substituteFrom objects the cluster
// path builds but that Flux would not find on a fresh cluster when the
// Kustomization first reconciles: kustomize-controller reads them from the
// cluster, not from the repository. An object is there in time when the
// Kustomization that applies it declared this one (they are applied
// together) or is one this Kustomization depends on. Otherwise, and when
// it is this Kustomization's own output, the first reconciliations fail
// (not found) until it exists.
func substituteOrderFindings(st *clusterState) []result.Finding {
	var out []result.Finding
	for _, kb := range st.order {
		if kb.Err != nil || kb.Spec == nil || kb.Spec.Spec.PostBuild == nil {
			continue
		}
		for _, ref := range kb.Spec.Spec.PostBuild.SubstituteFrom {
			key := ref.Kind + "/" + kb.Ref.Namespace + "/" + ref.Name
			owner, ok := st.varOwner[key]
			if !ok || st.declaredBy(kb.Ref, owner) || st.dependsOn(kb.Ref, owner) {
				continue
			}
			var msg string
			if owner == kb.Ref {
				msg = fmt.Sprintf("postBuild.substituteFrom %s is part of this Kustomization's own output: Flux reads it from the cluster, so on a fresh cluster the first reconciliation fails (not found) until it exists; slipway used the object as built", key)
			} else {
				msg = fmt.Sprintf("postBuild.substituteFrom %s is built by Kustomization %s, which this one does not depend on (dependsOn): on a fresh cluster Flux may reconcile this one first and fail (not found) until %s has applied it", key, owner, owner)
			}
			r := kb.Ref
			out = append(out, result.Finding{Severity: result.SeverityWarning, Check: "substitution", ClusterPath: st.path,
				Kustomization: &r, Origin: kb.Origin, Message: msg})
		}
	}
	return out
}

// declaredBy reports whether owner's output declared ref, or declared a
// Kustomization that (transitively) declared it.
func (st *clusterState) declaredBy(ref, owner result.KustomizationRef) bool {
	seen := map[result.KustomizationRef]bool{}
	for cur, ok := st.parent[ref]; ok && !seen[cur]; cur, ok = st.parent[cur] {
		if cur == owner {
			return true
		}
		seen[cur] = true
	}
	return false
}

// dependsOn reports whether ref depends on owner through dependsOn,
// directly or not.
func (st *clusterState) dependsOn(ref, owner result.KustomizationRef) bool {
	seen := map[result.KustomizationRef]bool{ref: true}
	queue := []result.KustomizationRef{ref}
	for len(queue) > 0 {
		kb := st.byRef[queue[0]]
		queue = queue[1:]
		if kb == nil {
			continue
		}
		for _, d := range kb.DependsOn {
			if d == owner {
				return true
			}
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return false
}
