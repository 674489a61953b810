package result

// FieldDrift is one field of a manifest that the live object no longer
// holds as applied. Values are left empty for Secrets.
type FieldDrift struct {
	// Path is the field, "data.version" or "spec.template.spec.containers[0].image".
	Path string `json:"path"`
	// Missing: the live object lacks the field.
	Missing bool `json:"missing,omitempty"`
	// Want is the manifest's value, Live the cluster's (shortened).
	Want string `json:"want,omitempty"`
	Live string `json:"live,omitempty"`
}

// ObjectDrift is one object whose live state differs from its manifest.
type ObjectDrift struct {
	ID ObjectID `json:"id"`
	// Gone: the object is not in the cluster (deleted by hand, or never
	// applied).
	Gone   bool         `json:"gone,omitempty"`
	Fields []FieldDrift `json:"fields,omitempty"`
}

// TargetReason says why a reconcile deploys the commit it does.
type TargetReason string

// Target reasons.
const (
	// TargetNoRecord: nothing is recorded on the cluster yet, so the
	// checkout is deployed.
	TargetNoRecord TargetReason = "no-record"
	// TargetCheckout: the recorded commit is the checkout's.
	TargetCheckout TargetReason = "checkout"
	// TargetRecorded: the recorded commit, older or newer than the
	// checkout, built from the repository's Git objects.
	TargetRecorded TargetReason = "recorded"
	// TargetHead: the checkout, as asked (--to-head, reconcile-to: head),
	// whatever is recorded.
	TargetHead TargetReason = "head"
	// TargetRevision: a commit asked for explicitly (a rollback).
	TargetRevision TargetReason = "revision"
)

// ReconcileTarget is the commit one cluster path is reconciled to, and why.
type ReconcileTarget struct {
	// Commit is empty when Err says why there is none.
	Commit string       `json:"commit,omitempty"`
	Reason TargetReason `json:"reason,omitempty"`
	// Recorded is the cluster's record of the last deploy, when read.
	Recorded *DeployRecord `json:"recorded,omitempty"`
	// Err says why the path is not reconciled (the record unreadable, the
	// commit not in the local repository).
	Err error `json:"-"`
}

// Reconcile is a reconcile (or drift check) of cluster paths: each
// redeployed at the commit the cluster records as deployed, or compared
// with it.
type Reconcile struct {
	// Head is the checkout's commit.
	Head string `json:"head"`
	// DriftOnly: nothing was changed; Deploy holds a server-side dry-run.
	DriftOnly bool             `json:"driftOnly,omitempty"`
	Paths     []*PathReconcile `json:"paths"`
}

// PathReconcile is what a reconcile did to one cluster path.
type PathReconcile struct {
	Path   string          `json:"path"`
	Target ReconcileTarget `json:"target"`
	// Build is the target's build, validated (nil when not built).
	Build *ClusterBuild `json:"-"`
	// Deploy is the deploy (or its dry-run); nil when none ran.
	Deploy *ClusterDeploy `json:"deploy,omitempty"`
	// Drift are the objects that differed from their manifests before the
	// deploy, by inventory key, with which fields.
	Drift map[string]*ObjectDrift `json:"drift,omitempty"`
	// Err says why nothing was deployed (see Target.Err, validation).
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
}

// Fail records why the path was not reconciled.
func (p *PathReconcile) Fail(err error) { p.Err, p.Error = err, err.Error() }

// Failed reports whether the path could not be reconciled, or its deploy
// failed.
func (p *PathReconcile) Failed() bool {
	return p.Err != nil || (p.Build != nil && p.Build.HasErrors()) || (p.Deploy != nil && p.Deploy.Failed())
}

// Drifted reports whether the cluster differed from Git: objects the deploy
// changed (or, drift only, would change), or Helm release objects that
// differed from their release manifest.
func (p *PathReconcile) Drifted() bool { return Drifted(p.Deploy) }

// Drifted reports whether a reconcile's deploy found anything that
// differed from Git (see PathReconcile.Drifted).
func Drifted(cd *ClusterDeploy) bool {
	if cd.Changed() {
		return true
	}
	if cd == nil {
		return false
	}
	for _, kd := range cd.Kustomizations {
		for _, rel := range kd.Releases {
			if len(rel.Drift) > 0 {
				return true
			}
		}
	}
	return false
}

// Changed reports whether a deploy changed (or, dry-run, would change)
// anything; false for nil.
func (c *ClusterDeploy) Changed() bool {
	if c == nil {
		return false
	}
	for _, k := range c.Kustomizations {
		for _, ch := range k.Changes {
			switch ch.Action {
			case ActionCreated, ActionConfigured, ActionDeleted:
				return true
			}
		}
		for _, rel := range k.Releases {
			switch rel.Action {
			case ReleaseInstalled, ReleaseUpgraded, ReleaseUninstalled, ReleaseRolledBack:
				return true
			}
		}
	}
	return false
}

// Failed reports whether any cluster path failed.
func (r *Reconcile) Failed() bool {
	for _, p := range r.Paths {
		if p.Failed() {
			return true
		}
	}
	return false
}

// Drifted reports whether any cluster path drifted.
func (r *Reconcile) Drifted() bool {
	for _, p := range r.Paths {
		if p.Drifted() {
			return true
		}
	}
	return false
}
