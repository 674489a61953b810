package deploy

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// Two CI runs of different commits serialise on a cluster path's lock, and
// the one that gets it last would win even when it is the older commit: a
// slow run could roll a cluster back. So the lock's Lease records the last
// deploy (commit, time, run, slipway version, outcome), and a deploy of a
// commit that is an ancestor of the recorded one is refused unless it is
// an explicit rollback. The record is also what `status` and scheduled
// reconciles read to know what runs where.

// Annotations on the lock's Lease holding the last deploy's record.
const (
	AnnotationDeployedRevision = "slipway.dev/deployed-revision"
	AnnotationDeployedAt       = "slipway.dev/deployed-at"
	AnnotationDeployedBy       = "slipway.dev/deployed-by"
	AnnotationDeployedVersion  = "slipway.dev/deployed-version"
	AnnotationDeployedOutcome  = "slipway.dev/deployed-outcome"
)

// Outcomes recorded for a deploy.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// Revision says which commit a deploy applies.
type Revision struct {
	// Commit is the commit deployed; "" records nothing and checks nothing
	// (a directory that is not a Git repository).
	Commit string
	// Ancestry answers whether one commit is an ancestor of another; nil
	// means the order cannot be checked.
	Ancestry interface {
		IsAncestor(older, newer string) (bool, error)
	}
	// Rollback allows deploying a commit older than the one deployed.
	Rollback bool
}

// Record is what the cluster remembers of a cluster path's last deploy.
type Record struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	// By is the CI run (or host and process) that deployed.
	By      string `json:"by,omitempty"`
	Version string `json:"version,omitempty"`
	Outcome string `json:"outcome"`
}

// recordFrom reads a Record from the Lease's annotations.
func recordFrom(ann map[string]string) Record {
	r := Record{Revision: ann[AnnotationDeployedRevision], By: ann[AnnotationDeployedBy],
		Version: ann[AnnotationDeployedVersion], Outcome: ann[AnnotationDeployedOutcome]}
	r.At, _ = time.Parse(time.RFC3339, ann[AnnotationDeployedAt])
	return r
}

// ReadRecord returns the record of clusterPath's last deploy, read from its
// lock's Lease without taking the lock (a scheduled reconcile reads it to
// know which commit to redeploy). A cluster path never deployed has the
// zero Record.
func ReadRecord(ctx context.Context, c *cluster.Cluster, clusterPath string) (Record, error) {
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: SystemNamespace, Name: newLock(nil, clusterPath, "", 0).name}
	if err := c.Client.Get(ctx, key, lease); err != nil {
		if apierrors.IsNotFound(err) {
			return Record{}, nil
		}
		return Record{}, fmt.Errorf("reading the deploy record of %s: %w", clusterPath, err)
	}
	return recordFrom(lease.Annotations), nil
}

// annotate writes r into the Lease's annotations.
func (r Record) annotate(ann map[string]string) {
	ann[AnnotationDeployedRevision] = r.Revision
	ann[AnnotationDeployedAt] = r.At.UTC().Format(time.RFC3339)
	ann[AnnotationDeployedBy] = r.By
	ann[AnnotationDeployedVersion] = r.Version
	ann[AnnotationDeployedOutcome] = r.Outcome
}

// OutOfOrderError refuses a deploy of a commit older than the deployed one.
type OutOfOrderError struct {
	ClusterPath string
	Requested   string
	Deployed    Record
}

func (e *OutOfOrderError) Error() string {
	return fmt.Sprintf("not deployed: %s already runs %s (deployed %s by %s), a newer commit than %s; deploying the older one would roll it back (an explicit rollback allows it)",
		e.ClusterPath, short(e.Deployed.Revision), e.Deployed.At.UTC().Format(time.RFC3339), e.Deployed.By, short(e.Requested))
}

// checkOrder refuses rev when the cluster path runs a newer commit. It
// returns a warning, not an error, when the order cannot be told (a
// shallow clone, a commit of another branch): refusing then would block
// every deploy after a force push.
func checkOrder(path string, deployed Record, rev Revision) (warning string, err error) {
	switch {
	case deployed.Revision == "" || rev.Commit == "" || deployed.Revision == rev.Commit || rev.Rollback:
		return "", nil
	case rev.Ancestry == nil:
		return "", nil
	}
	older, aerr := rev.Ancestry.IsAncestor(rev.Commit, deployed.Revision)
	if aerr != nil {
		return fmt.Sprintf("cannot tell whether %s is older than the deployed %s (%v): deploying", short(rev.Commit), short(deployed.Revision), aerr), nil
	}
	if older {
		return "", &OutOfOrderError{ClusterPath: path, Requested: rev.Commit, Deployed: deployed}
	}
	return "", nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
