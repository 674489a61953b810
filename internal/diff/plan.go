package diff

import (
	"context"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// PlanEntry says whether one cluster path's output changes, and why not
// when it was decided without building the head revision.
type PlanEntry struct {
	Path    string `json:"path"`
	Changed bool   `json:"changed"`
	// Built is false when no file the base build read changed, so the
	// head revision was not built for it.
	Built bool `json:"built"`
}

// Plan is the set of cluster paths whose build output differs between
// two revisions.
type Plan struct {
	// Paths are the changed cluster paths, sorted: a GitHub Actions matrix.
	Paths    []string    `json:"paths"`
	Clusters []PlanEntry `json:"clusters"`
}

// RunPlan decides which cluster paths' output changes between the base
// and head revisions. The answer is "the build output differs", computed
// cheaply: a cluster path none of whose Kustomizations read a changed file
// (or a directory a file was added to or removed from) is unchanged
// without building its head; the others are built, reusing the base
// output of unaffected Kustomizations, and compared.
func RunPlan(ctx context.Context, opts RunOptions) (*Plan, error) {
	revs, err := open(opts)
	if err != nil {
		return nil, err
	}
	defer revs.Close()
	base, baseReuse, err := buildBase(ctx, opts, revs)
	if err != nil {
		return nil, err
	}
	changes, err := revs.changes()
	if err != nil {
		return nil, err
	}
	baseByPath := map[string]*result.ClusterBuild{}
	for _, cb := range base {
		baseByPath[cb.Path] = cb
	}
	plan := &Plan{Paths: []string{}}
	entries := map[string]*PlanEntry{}
	var toBuild []string
	for _, p := range revs.paths {
		in := revs.in[p]
		e := &PlanEntry{Path: p}
		entries[p] = e
		switch {
		case !in[0] || !in[1]:
			e.Changed = true // the cluster path appeared or vanished
		case affectsCluster(baseByPath[p], changes):
			toBuild = append(toBuild, p)
			e.Built = true
		}
	}
	if len(toBuild) > 0 {
		reuse := &build.Reuse{Record: build.NewRecorded(), Previous: baseReuse.Record, Changed: changes}
		head, err := buildWith(ctx, opts, revs.head, reuse, toBuild)
		if err != nil {
			return nil, err
		}
		var baseSub []*result.ClusterBuild
		for _, p := range toBuild {
			baseSub = append(baseSub, baseByPath[p])
		}
		res, err := Compare(baseSub, head, opts.Compare)
		if err != nil {
			return nil, err
		}
		for _, cd := range res.Clusters {
			entries[cd.Path].Changed = cd.Action != Unchanged
		}
	}
	for _, p := range revs.paths {
		e := entries[p]
		plan.Clusters = append(plan.Clusters, *e)
		if e.Changed {
			plan.Paths = append(plan.Paths, p)
		}
	}
	return plan, nil
}

func affectsCluster(cb *result.ClusterBuild, changes []source.FileChange) bool {
	if cb == nil || cb.HasErrors() {
		return true
	}
	for _, kb := range cb.Kustomizations {
		if build.Affected(kb, changes) {
			return true
		}
	}
	return false
}
