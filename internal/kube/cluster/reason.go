package cluster

import (
	"context"
	"errors"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/slipwayhq/slipway/internal/result"
)

// Reason classifies an error of a request to the API server with
// apimachinery's helpers, never by its text: a reason the error already
// carries (result.Because) first, then refused credentials, what does not
// exist (an object, a kind the server does not serve), a server that
// cannot answer now; def when none matches, "" for no error.
func Reason(err error, def result.Reason) result.Reason {
	var re *result.ReasonError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &re):
		return re.Reason
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return result.ReasonForbidden
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		return result.ReasonNotFound
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsServiceUnavailable(err),
		apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err), apierrors.IsUnexpectedServerError(err),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr):
		return result.ReasonClusterUnavailable
	}
	return def
}
