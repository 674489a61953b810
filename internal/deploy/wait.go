package deploy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/result"
)

// HealthError lists the objects that did not become ready in time.
type HealthError struct {
	Unhealthy []result.Change
	Timeout   time.Duration
}

func (e *HealthError) Error() string {
	parts := make([]string, len(e.Unhealthy))
	for i, c := range e.Unhealthy {
		parts[i] = c.ID.String() + ": " + c.Message
	}
	return fmt.Sprintf("health check failed after %s: %s", e.Timeout, strings.Join(parts, "; "))
}

// wait polls kstatus for every object until all are Current, one has
// Failed, or the context's deadline passes; every ProgressInterval it
// reports what is still not ready and why.
func (d *Deployer) wait(ctx context.Context, clusterPath string, ref result.KustomizationRef, objects []*unstructured.Unstructured, origins map[string]result.Origin) ([]result.Change, error) {
	start := time.Now()
	deadline, _ := ctx.Deadline()
	lastReport := time.Now()
	interval := 500 * time.Millisecond
	var pending, failed []result.Change
	for {
		p, f, err := d.statuses(ctx, objects, origins)
		switch {
		case err == nil:
			pending, failed = p, f
		case ctx.Err() == nil:
			return nil, err
		case pending == nil && failed == nil:
			// Timed out before the first answer: nothing is known ready.
			for _, u := range objects {
				id := result.IDOf(u)
				pending = append(pending, result.Change{ID: id, Message: "status unknown", Origin: origins[id.InventoryKey()]})
			}
		}
		if len(pending) == 0 && len(failed) == 0 {
			d.emit(clusterPath, &ref, "✔ %d objects ready in %s", len(objects), time.Since(start).Round(time.Millisecond))
			return nil, nil
		}
		if len(failed) > 0 && len(pending) == 0 {
			return failed, &HealthError{Unhealthy: failed, Timeout: time.Since(start).Round(time.Second)}
		}
		if ctx.Err() != nil {
			all := append(failed, pending...)
			return all, &HealthError{Unhealthy: all, Timeout: deadline.Sub(start).Round(time.Second)}
		}
		if time.Since(lastReport) >= d.opts.ProgressInterval {
			lastReport = time.Now()
			names := make([]string, 0, len(pending))
			for _, p := range pending {
				names = append(names, p.ID.String()+" ("+p.Message+")")
			}
			d.emit(clusterPath, &ref, "waiting for %d/%d objects: %s", len(pending), len(objects), strings.Join(names, ", "))
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
		if interval < 2*time.Second {
			interval *= 2
		}
	}
}

func (d *Deployer) statuses(ctx context.Context, objects []*unstructured.Unstructured, origins map[string]result.Origin) (pending, failed []result.Change, err error) {
	res := make([]*result.Change, len(objects))
	kinds := make([]status.Status, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, u := range objects {
		g.Go(func() error {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(u.GroupVersionKind())
			id := result.IDOf(u)
			c := &result.Change{ID: id, Origin: origins[id.InventoryKey()]}
			res[i] = c
			if err := d.cluster.Client.Get(gctx, client.ObjectKeyFromObject(u), live); err != nil {
				if apierrors.IsNotFound(err) {
					kinds[i], c.Message = status.NotFoundStatus, "not found"
					return nil
				}
				return err
			}
			st, err := status.Compute(live)
			if err != nil {
				kinds[i], c.Message = status.UnknownStatus, err.Error()
				return nil
			}
			kinds[i], c.Message = st.Status, string(st.Status)
			if st.Message != "" {
				c.Message += ": " + st.Message
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	for i, c := range res {
		switch kinds[i] {
		case status.CurrentStatus:
		case status.FailedStatus:
			failed = append(failed, *c)
		default:
			pending = append(pending, *c)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].ID.String() < pending[j].ID.String() })
	return pending, failed, nil
}
