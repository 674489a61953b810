package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LockError says who holds a cluster path's lock.
type LockError struct {
	ClusterPath string
	Holder      string
	Since       time.Time
}

func (e *LockError) Error() string {
	return fmt.Sprintf("cluster path %s is being deployed by %s (since %s); gave up waiting", e.ClusterPath, e.Holder, e.Since.UTC().Format(time.RFC3339))
}

// lock is a coordination.k8s.io Lease serialising deploys of one cluster
// path. A holder renews it while it works; a lease not renewed within its
// TTL belongs to a run that died and is taken over.
type lock struct {
	c        client.Client
	name     string
	path     string
	holder   string
	ttl      time.Duration
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	renewErr error
	// last is the record of the previous deploy, read when taking the lock.
	last Record
}

// Err reports a lock that could not be renewed or was taken over: the run
// must stop changing the cluster.
func (l *lock) Err() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renewErr
}

func newLock(c client.Client, clusterPath, holder string, ttl time.Duration) *lock {
	return &lock{c: c, name: "lock-" + ClusterPathLabel(clusterPath), path: clusterPath, holder: holder, ttl: ttl}
}

// AcquireLock takes clusterPath's lock for holder, waiting up to wait for
// another holder (onWait is told who), for a run that changes the cluster
// outside a deploy (uninstall). release frees it and records no deploy.
func AcquireLock(ctx context.Context, c client.Client, clusterPath, holder string, ttl, wait time.Duration, onWait func(holder string)) (release func(context.Context) error, err error) {
	l := newLock(c, clusterPath, holder, ttl)
	if err := l.Acquire(ctx, wait, onWait); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return l.Release(ctx, nil) }, nil
}

// Acquire takes the lease, waiting up to wait for another holder.
func (l *lock) Acquire(ctx context.Context, wait time.Duration, onWait func(holder string)) error {
	deadline := time.Now().Add(wait)
	notified := false
	for {
		holder, since, err := l.try(ctx)
		if err != nil {
			return err
		}
		if holder == "" {
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			go l.renew()
			return nil
		}
		if !notified && onWait != nil {
			onWait(holder)
			notified = true
		}
		if time.Now().After(deadline) {
			return &LockError{ClusterPath: l.path, Holder: holder, Since: since}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// try takes the lease if free or expired; it returns the other holder otherwise.
func (l *lock) try(ctx context.Context) (string, time.Time, error) {
	now := metav1.NewMicroTime(time.Now())
	secs := int32(l.ttl / time.Second)
	lease := &coordinationv1.Lease{}
	err := l.c.Get(ctx, client.ObjectKey{Namespace: SystemNamespace, Name: l.name}, lease)
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: l.name, Namespace: SystemNamespace,
				Labels:      map[string]string{LabelManagedBy: ManagedByValue, LabelClusterPath: ClusterPathLabel(l.path)},
				Annotations: map[string]string{AnnotationClusterPath: l.path}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &l.holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
		}
		if err := l.c.Create(ctx, lease); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return l.try(ctx)
			}
			return "", time.Time{}, fmt.Errorf("creating lock: %w", err)
		}
		l.last = Record{}
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("reading lock: %w", err)
	}
	if other, since, held := heldByOther(lease, l.holder, time.Now()); held {
		return other, since, nil
	}
	// Free, ours, or expired (its holder died): take it. The update carries
	// the resourceVersion read, so two runs cannot both win.
	lease.Spec.HolderIdentity = &l.holder
	lease.Spec.LeaseDurationSeconds = &secs
	lease.Spec.AcquireTime = &now
	lease.Spec.RenewTime = &now
	if err := l.c.Update(ctx, lease); err != nil {
		if apierrors.IsConflict(err) {
			return l.try(ctx)
		}
		return "", time.Time{}, fmt.Errorf("taking lock: %w", err)
	}
	l.last = recordFrom(lease.Annotations)
	return "", time.Time{}, nil
}

// heldByOther reports whether another holder has the lease and it has not
// expired at now, with that holder and since when it holds it. A lease that
// is free, ours, or expired (its holder died) may be taken.
func heldByOther(lease *coordinationv1.Lease, holder string, now time.Time) (string, time.Time, bool) {
	spec := lease.Spec
	if spec.HolderIdentity == nil || *spec.HolderIdentity == "" || *spec.HolderIdentity == holder {
		return "", time.Time{}, false
	}
	if spec.RenewTime == nil || spec.LeaseDurationSeconds == nil {
		return "", time.Time{}, false
	}
	expiry := spec.RenewTime.Add(time.Duration(*spec.LeaseDurationSeconds) * time.Second)
	if !now.Before(expiry) {
		return "", time.Time{}, false
	}
	since := spec.RenewTime.Time
	if spec.AcquireTime != nil {
		since = spec.AcquireTime.Time
	}
	return *spec.HolderIdentity, since, true
}

func (l *lock) renew() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			lease := &coordinationv1.Lease{}
			err := l.c.Get(ctx, client.ObjectKey{Namespace: SystemNamespace, Name: l.name}, lease)
			if err == nil {
				if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != l.holder {
					err = errors.New("lock was taken over by " + deref(lease.Spec.HolderIdentity))
				} else {
					now := metav1.NewMicroTime(time.Now())
					lease.Spec.RenewTime = &now
					err = l.c.Update(ctx, lease)
				}
			}
			cancel()
			if err != nil {
				l.mu.Lock()
				l.renewErr = err
				l.mu.Unlock()
			}
		}
	}
}

// Release frees the lease if it is still ours, recording rec (when not
// nil) as the cluster path's last deploy in the same update.
func (l *lock) Release(ctx context.Context, rec *Record) error {
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	lease := &coordinationv1.Lease{}
	if err := l.c.Get(ctx, client.ObjectKey{Namespace: SystemNamespace, Name: l.name}, lease); err != nil {
		return client.IgnoreNotFound(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != l.holder {
		return nil
	}
	empty := ""
	lease.Spec.HolderIdentity = &empty
	if rec != nil {
		if lease.Annotations == nil {
			lease.Annotations = map[string]string{}
		}
		rec.annotate(lease.Annotations)
	}
	return client.IgnoreNotFound(l.c.Update(ctx, lease))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
