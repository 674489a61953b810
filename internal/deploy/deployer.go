package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
)

// FieldManager is slipway's server-side apply field manager.
const FieldManager = "slipway"

// Options configure a Deployer.
type Options struct {
	// Prune deletes objects removed from a Kustomization (when its
	// spec.prune allows it).
	Prune bool
	// Wait waits for every applied object to become ready, whatever
	// spec.wait says; otherwise spec.wait and spec.healthChecks decide.
	Wait bool
	// Timeout bounds applying and waiting per Kustomization when its
	// spec.timeout is not set.
	Timeout time.Duration
	// DryRun asks the API server what would change and changes nothing.
	DryRun bool
	// AllowEmpty lets a Kustomization that builds to nothing prune
	// everything it deployed before.
	AllowEmpty bool
	// Adopt takes over objects owned by another ApplySet or Kustomization.
	Adopt bool
	// PruneRemoved deletes what Kustomizations that vanished from the
	// repository deployed; otherwise their disappearance is an error.
	PruneRemoved bool
	// Holder identifies this run in the lock (a CI run URL, host and pid).
	Holder string
	// LockWait bounds waiting for another run; LockTTL is how long a lock
	// survives its holder dying.
	LockWait, LockTTL time.Duration
	// Parallelism bounds Kustomizations deployed at once.
	Parallelism int
	// Tooling is recorded in ApplySet parents, e.g. "slipway/v0.1.0".
	Tooling string
	// Revision is the commit deployed: recorded in the cluster, and a
	// commit older than the one deployed is refused unless Rollback.
	Revision Revision
	// Version is slipway's version, recorded with the revision.
	Version string
	// DriftFields notes, from the live objects read before applying, which
	// fields of the manifests they no longer hold (Deployer.Drifted): what
	// a reconcile reverts, at no extra request.
	DriftFields bool
	// Observer receives progress; nil discards it.
	Observer func(Event)
	// ProgressInterval is how often waiting reports what is not ready.
	ProgressInterval time.Duration
}

// DefaultOptions returns Flux-like defaults.
func DefaultOptions() Options {
	host, _ := os.Hostname()
	return Options{
		Prune:            true,
		Timeout:          5 * time.Minute,
		Holder:           fmt.Sprintf("%s/pid-%d", host, os.Getpid()),
		LockWait:         5 * time.Minute,
		LockTTL:          60 * time.Second,
		Parallelism:      12,
		Tooling:          "slipway/v1",
		ProgressInterval: 5 * time.Second,
	}
}

// Event is one line of progress.
type Event struct {
	ClusterPath   string
	Kustomization *result.KustomizationRef
	Message       string
}

// Source names where an event comes from: "clusters/prod flux-system/apps".
func (e Event) Source() string {
	if e.Kustomization == nil {
		return e.ClusterPath
	}
	return e.ClusterPath + " " + e.Kustomization.String()
}

// ProgressLog is the Observer both front ends use: one line per event,
// "15:04:05 clusters/prod flux-system/apps: message", the message passed
// through clean (masking secret values) first. Kustomizations deploy in
// parallel, so lines are written one at a time.
func ProgressLog(clean func(string) string, write func(line string)) func(Event) {
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		write(fmt.Sprintf("%s %s: %s", time.Now().Format("15:04:05"), e.Source(), clean(e.Message)))
	}
}

// Deployer deploys cluster builds to one cluster.
type Deployer struct {
	cluster *cluster.Cluster
	rm      *ssa.ResourceManager
	absent  *absentClient
	inv     *inventoryStore
	opts    Options
	helm    helmState
	drift   driftNotes
}

// New returns a Deployer for a connected cluster.
func New(c *cluster.Cluster, opts Options) *Deployer {
	if opts.Parallelism < 1 {
		opts.Parallelism = 1
	}
	poller := polling.NewStatusPoller(c.Client, c.Client.RESTMapper(), polling.Options{})
	absent := newAbsentClient(c.Client)
	rm := ssa.NewResourceManager(absent, poller, ssa.Owner{Field: FieldManager, Group: flux.KustomizeGroup})
	rm.SetConcurrency(16)
	return &Deployer{cluster: c, rm: rm, absent: absent, inv: &inventoryStore{c: c.Client, tooling: opts.Tooling}, opts: opts}
}

func (d *Deployer) emit(path string, ref *result.KustomizationRef, format string, args ...any) {
	if d.opts.Observer != nil {
		d.opts.Observer(Event{ClusterPath: path, Kustomization: ref, Message: fmt.Sprintf(format, args...)})
	}
}

// Deploy applies one cluster path's build: Kustomizations in dependsOn
// order, independent ones in parallel, under the cluster path's lock.
func (d *Deployer) Deploy(ctx context.Context, cb *result.ClusterBuild) *result.ClusterDeploy {
	start := time.Now()
	before := d.cluster.Requests()
	out := &result.ClusterDeploy{Path: cb.Path, DryRun: d.opts.DryRun}
	defer func() {
		out.Duration = time.Since(start)
		out.Requests = d.cluster.Requests() - before
	}()
	refs := make([]result.KustomizationRef, len(cb.Kustomizations))
	for i, kb := range cb.Kustomizations {
		refs[i] = kb.Ref
	}
	if err := sharedInventories(refs); err != nil {
		out.Fail(result.ReasonInventoryConflict, err)
		return out
	}
	var lk *lock
	if !d.opts.DryRun {
		if err := d.ensureSystemNamespace(ctx); err != nil {
			out.Fail(result.ReasonClusterUnavailable, err)
			return out
		}
		lk = newLock(d.cluster.Client, cb.Path, d.opts.Holder, d.opts.LockTTL)
		if err := lk.Acquire(ctx, d.opts.LockWait, func(holder string) {
			d.emit(cb.Path, nil, "waiting for the lock held by %s", holder)
		}); err != nil {
			out.Fail(result.ReasonLockUnavailable, err)
			return out
		}
		var rec *Record
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = lk.Release(rctx, rec)
		}()
		warning, err := checkOrder(cb.Path, lk.last, d.opts.Revision)
		if err != nil {
			out.Fail(result.ReasonOutOfOrder, err)
			return out
		}
		if warning != "" {
			d.emit(cb.Path, nil, "%s", warning)
		}
		defer func() { rec = d.record(out) }()
	}
	d.helm.begin(cb)
	defer d.helm.end(cb.Path)
	if err := d.checkRemoved(ctx, cb, out); err != nil {
		out.Fail(result.ReasonOf(err, result.ReasonInventoryFailed), err)
		return out
	}

	live := newLiveCache()
	live.prefetch(ctx, d.cluster.Client, kindsOf(cb))
	d.noteDrift(cb, live)
	done := d.deployInOrder(ctx, cb, lk, live)
	for _, kb := range cb.Kustomizations {
		kd, ok := done[kb.Ref]
		if !ok {
			// Left out of every level: a member or dependant of a cycle.
			kd = &result.KustomizationDeploy{Ref: kb.Ref, Origin: kb.Origin}
			kd.Fail(result.StatusBlocked, result.ReasonDependencyNotReady, errors.New("not deployed: dependsOn cycle or missing dependency"))
		}
		out.Kustomizations = append(out.Kustomizations, kd)
	}
	return out
}

// deployInOrder deploys the Kustomizations level by level of the
// dependsOn graph, those of one level in parallel. A Kustomization whose
// dependency failed, or any once the lock is lost, is not deployed.
func (d *Deployer) deployInOrder(ctx context.Context, cb *result.ClusterBuild, lk *lock, live *liveCache) map[result.KustomizationRef]*result.KustomizationDeploy {
	byRef := map[result.KustomizationRef]*result.KustomizationBuild{}
	deps := map[result.KustomizationRef][]result.KustomizationRef{}
	for _, kb := range cb.Kustomizations {
		byRef[kb.Ref] = kb
		deps[kb.Ref] = releaseDeps(cb, kb)
	}
	done := map[result.KustomizationRef]*result.KustomizationDeploy{}
	var mu sync.Mutex
	for _, level := range flux.NewGraph(deps).Levels() {
		sem := make(chan struct{}, d.opts.Parallelism)
		var wg sync.WaitGroup
		for _, ref := range level {
			kb := byRef[ref]
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				mu.Lock()
				blocked := blockedBy(kb.DependsOn, done)
				mu.Unlock()
				kd := &result.KustomizationDeploy{Ref: kb.Ref, Origin: kb.Origin}
				if err := lk.Err(); err != nil {
					kd.Fail(result.StatusFailed, result.ReasonLockLost, fmt.Errorf("not deployed: the cluster path's lock was lost (%w)", err))
				} else if blocked != "" {
					kd.Fail(result.StatusBlocked, result.ReasonDependencyNotReady, fmt.Errorf("not deployed: dependency %s did not succeed", blocked))
				} else {
					kd = d.deployOne(ctx, cb.Path, kb, live)
				}
				mu.Lock()
				done[kb.Ref] = kd
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	return done
}

// record is what a finished deploy leaves in the lock; nil when there is no
// commit to record.
func (d *Deployer) record(out *result.ClusterDeploy) *Record {
	if d.opts.Revision.Commit == "" {
		return nil
	}
	r := &Record{Revision: d.opts.Revision.Commit, At: time.Now(), By: d.opts.Holder, Version: d.opts.Version, Outcome: OutcomeSucceeded}
	if out.Failed() {
		r.Outcome = OutcomeFailed
	}
	return r
}

// checkRemoved refuses to go on when a Kustomization this cluster path
// deployed before is gone from the build, unless PruneRemoved: Flux would
// garbage-collect it silently; slipway makes the removal explicit.
func (d *Deployer) checkRemoved(ctx context.Context, cb *result.ClusterBuild, out *result.ClusterDeploy) error {
	invs, err := d.inv.List(ctx, cb.Path)
	if err != nil {
		return err
	}
	present := map[result.KustomizationRef]bool{}
	for _, kb := range cb.Kustomizations {
		present[kb.Ref] = true
	}
	var gone []*Inventory
	for _, inv := range invs {
		if !present[inv.Ref] {
			gone = append(gone, inv)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if !d.opts.PruneRemoved {
		names := make([]string, len(gone))
		for i, g := range gone {
			names[i] = fmt.Sprintf("%s (%d objects)", g.Ref, len(g.Entries))
		}
		return result.Because(result.ReasonRemovedKustomization, fmt.Errorf("kustomization(s) deployed before are no longer in %s: %s; nothing was changed. Restore them, or pass --prune-removed to delete what they deployed", cb.Path, strings.Join(names, ", ")))
	}
	for _, inv := range gone {
		kd := &result.KustomizationDeploy{Ref: inv.Ref, Status: result.StatusApplied}
		start := time.Now()
		remaining, changes, err := d.prune(ctx, inv, map[string]Entry{})
		kd.Changes = changes
		if err != nil {
			kd.Fail(result.StatusFailed, result.ReasonPruneFailed, err)
		}
		if !d.opts.DryRun {
			if len(remaining) == 0 {
				err = d.inv.Delete(ctx, inv.Ref)
			} else {
				inv.Entries = remaining
				err = d.inv.Write(ctx, inv)
			}
			if err != nil {
				kd.Fail(result.StatusFailed, result.ReasonInventoryFailed, err)
			}
		}
		kd.Duration = time.Since(start)
		out.Kustomizations = append(out.Kustomizations, kd)
	}
	return nil
}

func (d *Deployer) ensureSystemNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SystemNamespace, Labels: map[string]string{LabelManagedBy: ManagedByValue}}}
	if err := d.cluster.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", SystemNamespace, err)
	}
	return nil
}

// kindsOf lists the kinds slipway would apply for a cluster path.
func kindsOf(cb *result.ClusterBuild) []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, kb := range cb.Kustomizations {
		for _, o := range kb.Objects {
			gvk := o.Object.GroupVersionKind()
			if !seen[gvk] && !interpreted(o.Object) {
				seen[gvk] = true
				out = append(out, gvk)
			}
		}
	}
	return out
}
