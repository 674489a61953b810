package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
)

// TestReason classifies API errors with apimachinery's helpers, wrapped as
// slipway wraps them; text alone never decides.
func TestReason(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	wrap := func(err error) error { return fmt.Errorf("reading ConfigMap a/b: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want result.Reason
	}{
		{"no error", nil, ""},
		{"forbidden", wrap(apierrors.NewForbidden(gr, "b", errors.New("no"))), result.ReasonForbidden},
		{"unauthorized", wrap(apierrors.NewUnauthorized("expired")), result.ReasonForbidden},
		{"not found", wrap(apierrors.NewNotFound(gr, "b")), result.ReasonNotFound},
		{"kind not served", wrap(&meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "x.io", Kind: "Y"}}), result.ReasonNotFound},
		{"unavailable", wrap(apierrors.NewServiceUnavailable("etcd")), result.ReasonClusterUnavailable},
		{"timeout", wrap(apierrors.NewTimeoutError("slow", 1)), result.ReasonClusterUnavailable},
		{"deadline", wrap(context.DeadlineExceeded), result.ReasonClusterUnavailable},
		{"network", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), result.ReasonClusterUnavailable},
		{"reason carried", wrap(result.Because(result.ReasonLockLost, errors.New("x"))), result.ReasonLockLost},
		{"untyped, misleading text", errors.New("forbidden: not found"), result.ReasonInventoryFailed},
	} {
		if got := cluster.Reason(tc.err, result.ReasonInventoryFailed); got != tc.want {
			t.Errorf("%s: Reason = %q, want %q", tc.name, got, tc.want)
		}
	}
}
