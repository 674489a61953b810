package deploy

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"golang.org/x/sync/errgroup"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/helmrelease"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
)

// `slipway status` has no controller to ask, so it reads what deploys left
// in the cluster: the lock Lease's record of the last deploy and the
// inventories, whose members it checks with kstatus now. It only gets and
// lists, so a read-only token (the built-in "view" role plus reading
// slipway-system) is enough; what such a token may not read (Secrets,
// hence Helm's release storage; RBAC objects) is reported as not readable
// instead of failing the whole report.

// StatusOptions say which cluster paths `status` reads and how.
type StatusOptions struct {
	// ClusterPaths limits the report; empty means every cluster path that
	// has an inventory or a lock on the cluster.
	ClusterPaths []string
	// Parallelism bounds the objects read at once.
	Parallelism int
	// Now is the clock, for telling a live lock from an expired one.
	Now func() time.Time
	// Drift, when set, checks whether a cluster path still holds what its
	// deployed revision applied (revision "" when the record names none).
	// Nil leaves drift unchecked: it needs a build of that revision.
	Drift func(ctx context.Context, clusterPath, revision string) *result.DriftStatus
}

// DefaultStatusOptions returns the defaults: every cluster path, 16 reads
// at once (what a deploy's health checks use).
func DefaultStatusOptions() StatusOptions {
	return StatusOptions{Parallelism: 16, Now: time.Now}
}

// NotDeployedError says a cluster path asked for has nothing on the
// cluster: no inventory and no deploy record.
type NotDeployedError struct {
	ClusterPath string
}

func (e *NotDeployedError) Error() string {
	return fmt.Sprintf("cluster path %s was never deployed to this cluster (no inventory, no deploy record)", e.ClusterPath)
}

// ReadStatus reads the state of the cluster's cluster paths. It returns an
// error only when slipway's own records cannot be listed; problems of a
// cluster path or an object are part of the result.
func ReadStatus(ctx context.Context, c *cluster.Cluster, opts StatusOptions) (*result.LiveStatus, error) {
	if opts.Parallelism < 1 {
		opts.Parallelism = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	leases, err := listLocks(ctx, c.Client)
	if err != nil {
		return nil, err
	}
	invs, err := listAllInventories(ctx, c.Client)
	if err != nil {
		return nil, err
	}
	r := &statusReader{c: c, opts: opts}
	out := &result.LiveStatus{Clusters: []*result.ClusterStatus{}}
	for _, path := range statusPaths(opts.ClusterPaths, leases, invs) {
		out.Clusters = append(out.Clusters, r.clusterPath(ctx, path, leases[path], invs[path]))
	}
	return out, nil
}

// statusPaths are the cluster paths asked for, else every one with a lock
// or an inventory, sorted.
func statusPaths(asked []string, leases map[string]*coordinationv1.Lease, invs map[string][]*Inventory) []string {
	if len(asked) > 0 {
		return asked
	}
	seen := map[string]bool{}
	for p := range leases {
		seen[p] = true
	}
	for p := range invs {
		seen[p] = true
	}
	return sortedKeys(seen)
}

// listLocks returns the lock Leases by cluster path.
func listLocks(ctx context.Context, c client.Client) (map[string]*coordinationv1.Lease, error) {
	list := &coordinationv1.LeaseList{}
	if err := c.List(ctx, list, client.InNamespace(SystemNamespace), client.MatchingLabels{LabelManagedBy: ManagedByValue}); err != nil {
		return nil, fmt.Errorf("listing deploy records (Leases in %s): %w", SystemNamespace, err)
	}
	out := map[string]*coordinationv1.Lease{}
	for i := range list.Items {
		if p := list.Items[i].Annotations[AnnotationClusterPath]; p != "" {
			out[p] = &list.Items[i]
		}
	}
	return out, nil
}

// listAllInventories returns every inventory by cluster path, in one list
// request.
func listAllInventories(ctx context.Context, c client.Client) (map[string][]*Inventory, error) {
	list := &corev1.ConfigMapList{}
	if err := c.List(ctx, list, client.InNamespace(SystemNamespace), client.MatchingLabels{LabelManagedBy: ManagedByValue}, client.HasLabels{LabelClusterPath}); err != nil {
		return nil, fmt.Errorf("listing inventories (ConfigMaps in %s): %w", SystemNamespace, err)
	}
	s := &inventoryStore{c: c}
	out := map[string][]*Inventory{}
	for i := range list.Items {
		path := list.Items[i].Annotations[AnnotationClusterPath]
		inv, err := s.fromConfigMap(&list.Items[i], path)
		if err != nil {
			return nil, err
		}
		out[path] = append(out[path], inv)
	}
	for _, invs := range out {
		sort.Slice(invs, func(i, j int) bool { return invs[i].Ref.String() < invs[j].Ref.String() })
	}
	return out, nil
}

// statusReader reads the state of cluster paths; it makes the Helm
// release reader on first use.
type statusReader struct {
	c      *cluster.Cluster
	opts   StatusOptions
	once   sync.Once
	rel    *helmrelease.Releaser
	relErr error
}

func (r *statusReader) clusterPath(ctx context.Context, path string, lease *coordinationv1.Lease, invs []*Inventory) *result.ClusterStatus {
	cs := &result.ClusterStatus{Path: path, Kustomizations: []*result.KustomizationStatus{}}
	if lease != nil {
		cs.Deployed = deployRecord(lease)
		cs.DeployingBy = activeHolder(lease, r.opts.Now())
	}
	if lease == nil && len(invs) == 0 {
		cs.Err, cs.Reason = &NotDeployedError{ClusterPath: path}, result.ReasonNotFound
		return cs
	}
	for _, inv := range invs {
		ks, err := r.kustomization(ctx, inv)
		if err != nil {
			cs.Err, cs.Reason = err, cluster.Reason(err, result.ReasonClusterUnavailable)
			return cs
		}
		cs.Kustomizations = append(cs.Kustomizations, ks)
	}
	if r.opts.Drift != nil {
		var rev string
		if cs.Deployed != nil {
			rev = cs.Deployed.Revision
		}
		cs.Drift = r.opts.Drift(ctx, path, rev)
	}
	return cs
}

// deployRecord is the Lease's record; nil when it records no deploy (the
// first deploy still runs, or died).
func deployRecord(lease *coordinationv1.Lease) *result.DeployRecord {
	rec := recordFrom(lease.Annotations)
	if rec.Revision == "" && rec.Outcome == "" {
		return nil
	}
	return &result.DeployRecord{Revision: rec.Revision, At: rec.At, By: rec.By, Version: rec.Version, Outcome: rec.Outcome}
}

// activeHolder is the run holding the lock, "" when it is free or its
// holder stopped renewing it (a run that died).
func activeHolder(lease *coordinationv1.Lease, now time.Time) string {
	holder := deref(lease.Spec.HolderIdentity)
	if holder == "" || lease.Spec.RenewTime == nil || lease.Spec.LeaseDurationSeconds == nil {
		return ""
	}
	if now.After(lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second)) {
		return ""
	}
	return holder
}

// kustomization checks an inventory's members and releases.
func (r *statusReader) kustomization(ctx context.Context, inv *Inventory) (*result.KustomizationStatus, error) {
	ks := &result.KustomizationStatus{Ref: inv.Ref, Health: map[result.Health]int{}}
	var objects []Entry
	for _, e := range inv.Entries {
		if isHelmRelease(e.ObjectID()) {
			ks.Releases = append(ks.Releases, r.release(e))
			continue
		}
		objects = append(objects, e)
	}
	healths := make([]result.ObjectHealth, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Parallelism)
	for i, e := range objects {
		g.Go(func() error {
			healths[i] = objectHealth(gctx, r.c.Client, e)
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("checking the objects of %s: %w", inv.Ref, err)
	}
	ks.Objects = len(objects)
	for _, h := range healths {
		ks.Health[h.Health]++
		if h.Health != result.HealthCurrent {
			ks.NotCurrent = append(ks.NotCurrent, h)
		}
	}
	sort.Slice(ks.NotCurrent, func(i, j int) bool { return ks.NotCurrent[i].ID.String() < ks.NotCurrent[j].ID.String() })
	return ks, nil
}

// objectHealth reads one inventory member and computes its kstatus.
func objectHealth(ctx context.Context, c client.Client, e Entry) result.ObjectHealth {
	h := result.ObjectHealth{ID: e.ObjectID()}
	stub, err := e.Object()
	if err != nil {
		h.Health, h.Message = result.HealthUnknown, err.Error()
		return h
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(stub.GroupVersionKind())
	err = c.Get(ctx, client.ObjectKeyFromObject(stub), live)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		h.Health, h.Message = result.HealthNotFound, "not found"
		return h
	case apierrors.IsForbidden(err):
		h.Health, h.Message = result.HealthNotReadable, "not readable (RBAC)"
		return h
	case err != nil:
		h.Health, h.Message = result.HealthUnknown, err.Error()
		return h
	}
	st, err := status.Compute(live)
	if err != nil {
		h.Health, h.Message = result.HealthUnknown, err.Error()
		return h
	}
	h.Health, h.Message = healthOf(st.Status), st.Message
	return h
}

// healthOf maps kstatus' statuses onto the report's: an object being
// deleted is still on its way somewhere.
func healthOf(s status.Status) result.Health {
	switch s {
	case status.CurrentStatus:
		return result.HealthCurrent
	case status.InProgressStatus, status.TerminatingStatus:
		return result.HealthInProgress
	case status.FailedStatus:
		return result.HealthFailed
	case status.NotFoundStatus:
		return result.HealthNotFound
	}
	return result.HealthUnknown
}

// release reads a HelmRelease's Helm release from Helm's storage.
func (r *statusReader) release(e Entry) *result.ReleaseStatus {
	id := e.ObjectID()
	name, storageNS := releaseOf(e)
	rs := &result.ReleaseStatus{Ref: result.KustomizationRef{Namespace: id.Namespace, Name: id.Name}, Release: name, StorageNamespace: storageNS}
	r.once.Do(func() { r.rel, r.relErr = helmrelease.New(r.c.Config, helmrelease.Options{}) })
	if r.relErr != nil {
		rs.State, rs.Err, rs.Reason = result.ReleaseError, r.relErr, cluster.Reason(r.relErr, result.ReasonClusterUnavailable)
		return rs
	}
	info, ok, err := r.rel.Last(name, storageNS)
	switch {
	case apierrors.IsForbidden(err):
		rs.State = result.ReleaseNotReadable
	case err != nil:
		rs.State, rs.Err, rs.Reason = result.ReleaseError, err, cluster.Reason(err, result.ReasonClusterUnavailable)
	case !ok:
		rs.State = result.ReleaseNotInstalled
	default:
		rs.State, rs.Revision, rs.Status, rs.Chart = result.ReleaseFound, info.Revision, info.Status, info.Chart
	}
	return rs
}
