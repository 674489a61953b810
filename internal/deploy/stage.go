package deploy

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applyStaged is fluxcd/pkg/ssa's ApplyAllStaged — cluster definitions
// (CRDs, Namespaces, ClusterRoles), then class definitions, each waited for,
// then custom-staged kinds, then the rest — with one difference: objects
// the ownership check found missing are created with one server-side
// apply each, concurrently, instead of a read, a dry-run and a sequential
// apply. A new object has nothing to drift from, so the dry-run would only
// say "created"; it would also make a stage all-or-nothing, which for
// objects that do not exist yet buys little: whatever was created is in
// the inventory already (recorded before anything is applied) and the
// next run goes on from there. Existing objects keep ssa's full path:
// drift detection, force on immutable fields, Merge and IfNotPresent.
func (d *Deployer) applyStaged(ctx context.Context, objects []*unstructured.Unstructured, opts ssa.ApplyOptions) (*ssa.ChangeSet, error) {
	var stages [4][]*unstructured.Unstructured
	for _, o := range objects {
		switch {
		case ssautil.IsClusterDefinition(o):
			stages[0] = append(stages[0], o)
		case ssautil.IsClassDefinition(o):
			stages[1] = append(stages[1], o)
		case ssautil.IsCustomStage(o, opts.CustomStageKinds):
			stages[2] = append(stages[2], o)
		default:
			stages[3] = append(stages[3], o)
		}
	}
	all := ssa.NewChangeSet()
	for i, stage := range stages {
		if len(stage) == 0 {
			continue
		}
		var existing, fresh []*unstructured.Unstructured
		for _, o := range stage {
			if d.absent.take(o) {
				fresh = append(fresh, o)
			} else {
				existing = append(existing, o)
			}
		}
		cs := ssa.NewChangeSet()
		if len(existing) > 0 {
			c, err := d.rm.ApplyAll(ctx, existing, opts)
			if c != nil {
				cs.Append(c.Entries)
			}
			if err != nil {
				all.Append(cs.Entries)
				return all, err
			}
		}
		if len(fresh) > 0 {
			c, err := d.createAll(ctx, fresh, opts)
			cs.Append(c.Entries)
			if err != nil {
				all.Append(cs.Entries)
				return all, err
			}
		}
		all.Append(cs.Entries)
		// Definitions must be established before what uses them is applied.
		// Namespaces and ClusterRoles are usable the moment they exist (the
		// namespace admission plugin reads through to the store for a
		// namespace its cache has not seen yet), so a stage of only those
		// does not pay a polling round.
		if i < 2 && needsWait(stage) {
			if err := d.rm.WaitForSet(cs.ToObjMetadataSet(), ssa.WaitOptions{Interval: opts.WaitInterval, Timeout: opts.WaitTimeout}); err != nil {
				return all, err
			}
		}
	}
	return all, nil
}

// createAll creates objects that do not exist with server-side apply, as
// ssa's apply does (forced ownership, slipway's field manager), bounded in
// parallel. Objects excluded by annotation are skipped as ssa skips them.
func (d *Deployer) createAll(ctx context.Context, objects []*unstructured.Unstructured, opts ssa.ApplyOptions) (*ssa.ChangeSet, error) {
	entries := make([]ssa.ChangeSetEntry, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, o := range objects {
		entries[i] = ssa.ChangeSetEntry{ObjMetadata: object.UnstructuredToObjMetadata(o), GroupVersion: o.GroupVersionKind().Version,
			Subject: ssautil.FmtUnstructured(o), Action: ssa.CreatedAction}
		if ssautil.AnyInMetadata(o, opts.ExclusionSelector) {
			entries[i].Action = ssa.SkippedAction
			continue
		}
		g.Go(func() error {
			u := o.DeepCopy()
			ssautil.RemoveCABundleFromCRD(u)
			if err := d.cluster.Client.Apply(gctx, client.ApplyConfigurationFromUnstructured(u), client.ForceOwnership, client.FieldOwner(FieldManager)); err != nil {
				entries[i].Action = ssa.UnknownAction
				return fmt.Errorf("%s apply failed: %w", ssautil.FmtUnstructured(o), err)
			}
			return nil
		})
	}
	err := g.Wait()
	cs := ssa.NewChangeSet()
	for _, e := range entries {
		if e.Action != ssa.UnknownAction {
			cs.Add(e)
		}
	}
	return cs, err
}

// needsWait reports whether a stage holds objects that become usable some
// time after they are created: CRDs (established), classes and anything
// else that is not a Namespace or a ClusterRole.
func needsWait(stage []*unstructured.Unstructured) bool {
	for _, o := range stage {
		if !ssautil.IsNamespace(o) && !ssautil.IsClusterRole(o) {
			return true
		}
	}
	return false
}
