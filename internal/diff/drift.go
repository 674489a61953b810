package diff

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	redactpkg "github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/internal/result"
)

// Drift here is what `diff --live --base` reports, reduced to the
// question `status --drift` asks: does the cluster still hold what the
// deployed revision applied, and if not, which objects differ.

// Drifter compares a build with the cluster, as deploy.Deployer's Drift
// does: the objects of cb as they are live and as applying cb would make
// them.
type Drifter func(ctx context.Context, cb *result.ClusterBuild) (live, applied *result.ClusterBuild, err error)

// ErrNoRevision says the deploy record names no Git revision (a deploy of
// a directory that is not a Git repository): there is nothing to build.
var ErrNoRevision = errors.New("the last deploy recorded no Git revision to build")

// DriftCheck builds the revision a cluster path runs and compares it with
// the cluster.
type DriftCheck struct {
	// Run says how to build (repository, build options, cache); its Paths
	// and Base are ignored.
	Run     RunOptions
	Drifter Drifter
}

// Check returns the objects of clusterPath that differ from what revision
// applied. A failure to build or compare is the result's Err: drift that
// cannot be checked is unknown, not absent.
func (c DriftCheck) Check(ctx context.Context, clusterPath, revision string) *result.DriftStatus {
	ds := &result.DriftStatus{Revision: revision, Drifted: []result.ObjectID{}}
	fail := func(reason result.Reason, err error) *result.DriftStatus {
		ds.Err, ds.Reason = err, reason
		return ds
	}
	if revision == "" {
		return fail(result.ReasonNotFound, ErrNoRevision)
	}
	opts := c.Run
	opts.Paths, opts.Base = []string{clusterPath}, ""
	builds, err := BuildRevision(ctx, opts, revision)
	if err != nil {
		return fail(build.ReasonOf(err, result.ReasonBuildFailed), fmt.Errorf("building %s at %s: %w", clusterPath, revision, err))
	}
	if len(builds) != 1 {
		return fail(result.ReasonNotFound, fmt.Errorf("revision %s has no cluster path %s", revision, clusterPath))
	}
	live, applied, err := c.Drifter(ctx, builds[0])
	if err != nil {
		return fail(cluster.Reason(err, result.ReasonClusterUnavailable), fmt.Errorf("comparing %s with the cluster: %w", clusterPath, err))
	}
	res, err := Compare([]*result.ClusterBuild{applied}, []*result.ClusterBuild{live}, Options{Base: revision, Head: "cluster"})
	if err != nil {
		return fail(result.ReasonBuildFailed, fmt.Errorf("comparing %s with the cluster: %w", clusterPath, err))
	}
	ds.Drifted, err = drifted(res, builds[0])
	if err != nil {
		// A build error can quote a value substituted from a Secret.
		return fail(result.ReasonOf(err, result.ReasonBuildFailed), redactpkg.NewMasker(builds[0].Sensitive).Err(err))
	}
	return ds
}

// drifted lists the objects whose live state differs; a build error, or
// a dry-run the server refused, makes the answer unknown.
func drifted(res *Result, cb *result.ClusterBuild) ([]result.ObjectID, error) {
	for _, f := range cb.Findings {
		if f.Severity == result.SeverityError {
			return nil, result.Because(result.ReasonBuildFailed, fmt.Errorf("the deployed revision does not build: %s", f.Message))
		}
	}
	ids := []result.ObjectID{}
	for _, cd := range res.Clusters {
		if len(cd.Errors) > 0 {
			// Errors of the comparison itself: the server refused a
			// dry-run of the deployed revision.
			return nil, result.Because(result.ReasonApplyFailed, fmt.Errorf("%s", cd.Errors[0].Finding.Message))
		}
		for _, kd := range cd.Kustomizations {
			for _, od := range kd.Objects {
				if od.Action != Unchanged {
					ids = append(ids, od.ID)
				}
			}
			// Objects HelmReleases rendered, changed by hand.
			for _, rd := range kd.Releases {
				for _, od := range rd.Objects {
					if od.Action != Unchanged {
						ids = append(ids, od.ID)
					}
				}
			}
		}
	}
	return ids, nil
}
