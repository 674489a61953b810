package deploy

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

// Only dependencies within the Kustomization order its releases.
func TestLocalDepsKeepsOnlyTheKustomizationsOwn(t *testing.T) {
	db := result.KustomizationRef{Namespace: "a", Name: "db"}
	app := result.KustomizationRef{Namespace: "a", Name: "app"}
	elsewhere := result.KustomizationRef{Namespace: "b", Name: "cache"}
	byRef, deps := localDeps([]*result.ReleaseBuild{
		{Ref: db},
		{Ref: app, DependsOn: []result.KustomizationRef{db, elsewhere}},
	})
	if len(byRef) != 2 || byRef[app].Ref != app {
		t.Errorf("byRef = %v", byRef)
	}
	if !slices.Equal(deps[app], []result.KustomizationRef{db}) || len(deps[db]) != 0 {
		t.Errorf("deps = %v", deps)
	}
}

func TestInParallelRunsEachWithinTheLimit(t *testing.T) {
	var running, most, done atomic.Int32
	inParallel([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 3, func(int) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		done.Add(1)
		running.Add(-1)
	})
	if done.Load() != 10 {
		t.Errorf("ran %d of 10", done.Load())
	}
	if most.Load() > 3 {
		t.Errorf("%d at once, limit 3", most.Load())
	}
}
