package result

import "time"

// Action is what a deploy did, or would do, to one object. The values are
// Flux's (fluxcd/pkg/ssa ChangeSet actions) plus "failed".
type Action string

// Actions.
const (
	ActionCreated    Action = "created"
	ActionConfigured Action = "configured"
	ActionUnchanged  Action = "unchanged"
	ActionDeleted    Action = "deleted"
	ActionSkipped    Action = "skipped"
	ActionFailed     Action = "failed"
	// ActionUnmanaged: left running, no longer managed (uninstall).
	ActionUnmanaged Action = "unmanaged"
)

// Change is one object's outcome.
type Change struct {
	ID      ObjectID `json:"id"`
	Action  Action   `json:"action"`
	Message string   `json:"message,omitempty"`
	Origin  Origin   `json:"origin,omitempty"`
}

// Status is a Kustomization's deploy outcome.
type Status string

// Statuses.
const (
	StatusApplied   Status = "applied"
	StatusFailed    Status = "failed"
	StatusSuspended Status = "suspended"
	// StatusBlocked: a dependency failed, so it was not attempted.
	StatusBlocked Status = "blocked"
)

// KustomizationDeploy is what happened to one Kustomization.
type KustomizationDeploy struct {
	Ref     KustomizationRef `json:"kustomization"`
	Status  Status           `json:"status"`
	Changes []Change         `json:"changes"`
	Error   string           `json:"error,omitempty"`
	// Reason and Err say why Status is not applied (see Fail).
	Reason   Reason        `json:"reason,omitempty"`
	Err      error         `json:"-"`
	Origin   Origin        `json:"origin,omitempty"`
	Duration time.Duration `json:"duration"`
	// Unhealthy lists objects that did not become ready, with why.
	Unhealthy []Change `json:"unhealthy,omitempty"`
	// Releases are the HelmReleases of this Kustomization, installed or
	// upgraded as Helm releases after its objects were applied.
	Releases []*ReleaseDeploy `json:"releases,omitempty"`
}

// ClusterDeploy is the outcome of deploying one cluster path.
type ClusterDeploy struct {
	Path           string                 `json:"path"`
	DryRun         bool                   `json:"dryRun,omitempty"`
	Kustomizations []*KustomizationDeploy `json:"kustomizations"`
	// Error is a failure of the whole cluster path (lock, safety refusal).
	Error string `json:"error,omitempty"`
	// Reason and Err say why (see Fail).
	Reason Reason `json:"reason,omitempty"`
	Err    error  `json:"-"`
	// OutOfOrder marks a deploy refused because the cluster path already
	// runs a newer commit (Error says which): nothing was changed, and it
	// is not a failure of this commit.
	OutOfOrder bool          `json:"outOfOrder,omitempty"`
	Duration   time.Duration `json:"duration"`
	// Requests counts API requests made, for the benchmarks.
	Requests int64 `json:"apiRequests"`
}

// Failed reports whether anything failed.
func (c *ClusterDeploy) Failed() bool {
	if c.OutOfOrder {
		return false
	}
	if c.Error != "" {
		return true
	}
	for _, k := range c.Kustomizations {
		if k.Status == StatusFailed || k.Status == StatusBlocked {
			return true
		}
	}
	return false
}

// UninstallSection is one step of an uninstall ("deleting namespaces").
type UninstallSection struct {
	Title   string   `json:"title"`
	Changes []Change `json:"changes"`
}

// Uninstall is the outcome of removing slipway from a cluster.
type Uninstall struct {
	DryRun       bool                `json:"dryRun,omitempty"`
	ClusterPaths []string            `json:"clusterPaths,omitempty"`
	Sections     []*UninstallSection `json:"sections"`
	// Errors are failures outside any one object (listing, locking).
	Errors   []string      `json:"errors,omitempty"`
	Duration time.Duration `json:"duration"`
}

// Changed reports whether the uninstall changed the cluster: deleted an
// object or release, or let go of one it keeps. A dry run changes nothing.
func (u *Uninstall) Changed() bool {
	if u.DryRun {
		return false
	}
	for _, s := range u.Sections {
		for _, c := range s.Changes {
			if c.Action == ActionDeleted || c.Action == ActionUnmanaged {
				return true
			}
		}
	}
	return false
}

// Failed reports whether anything could not be removed.
func (u *Uninstall) Failed() bool {
	if len(u.Errors) > 0 {
		return true
	}
	for _, s := range u.Sections {
		for _, c := range s.Changes {
			if c.Action == ActionFailed {
				return true
			}
		}
	}
	return false
}
