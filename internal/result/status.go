package result

import (
	"encoding/json"
	"time"
)

// LiveStatus is what runs on a cluster, read from what slipway left there: per
// cluster path the last deploy's record (the lock's Lease) and, per
// Kustomization, its inventory checked against the live objects now. It is
// slipway's `flux get kustomizations`, without a controller to ask.
type LiveStatus struct {
	Clusters []*ClusterStatus `json:"clusters"`
}

// ClusterStatus is one cluster path's state.
type ClusterStatus struct {
	Path string `json:"path"`
	// Deployed is the last deploy's record; nil when the cluster path has
	// no lock Lease or the Lease records no deploy yet.
	Deployed *DeployRecord `json:"deployed,omitempty"`
	// DeployingBy names the run holding the lock now, "" when none.
	DeployingBy    string                 `json:"deployingBy,omitempty"`
	Kustomizations []*KustomizationStatus `json:"kustomizations"`
	// Drift is the drift check's answer; nil when it was not asked for.
	Drift *DriftStatus `json:"drift,omitempty"`
	// Err is why the cluster path could not be read completely; Reason
	// classifies it (NotFound: never deployed here).
	Err    error  `json:"-"`
	Reason Reason `json:"reason,omitempty"`
}

// DeployRecord is the cluster's record of a cluster path's last deploy.
type DeployRecord struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	// By is the CI run URL (or host and process) that deployed.
	By      string `json:"by,omitempty"`
	Version string `json:"version,omitempty"`
	// Outcome is "succeeded" or "failed".
	Outcome string `json:"outcome"`
}

// Succeeded reports whether the recorded deploy succeeded.
func (r *DeployRecord) Succeeded() bool { return r.Outcome == "succeeded" }

// Health is kstatus' verdict on one object, as `kubectl wait`-style tools
// and Flux's health checks use it; NotReadable is slipway's own: the
// credentials may not read the object, so nothing is known about it.
type Health string

// Health values.
const (
	HealthCurrent     Health = "Current"
	HealthInProgress  Health = "InProgress"
	HealthFailed      Health = "Failed"
	HealthNotFound    Health = "NotFound"
	HealthUnknown     Health = "Unknown"
	HealthNotReadable Health = "NotReadable"
)

// Healthy reports whether h counts as healthy. An object the credentials
// cannot read is not counted against the cluster: read-only tokens that
// may not read Secrets or RBAC objects are the common case.
func (h Health) Healthy() bool { return h == HealthCurrent || h == HealthNotReadable }

// ObjectHealth is the health of one inventory member that is not Current.
type ObjectHealth struct {
	ID      ObjectID `json:"id"`
	Health  Health   `json:"health"`
	Message string   `json:"message,omitempty"`
}

// KustomizationStatus is one Kustomization's inventory checked now.
type KustomizationStatus struct {
	Ref KustomizationRef `json:"ref"`
	// Objects counts the inventory's objects (HelmReleases excluded: they
	// are Helm releases, not objects).
	Objects int `json:"objects"`
	// Health counts the objects per health.
	Health map[Health]int `json:"health"`
	// NotCurrent lists every object whose health is not Current, sorted.
	NotCurrent []ObjectHealth   `json:"notCurrent,omitempty"`
	Releases   []*ReleaseStatus `json:"releases,omitempty"`
}

// Healthy reports whether every object and release is healthy.
func (k *KustomizationStatus) Healthy() bool {
	for _, o := range k.NotCurrent {
		if !o.Health.Healthy() {
			return false
		}
	}
	for _, r := range k.Releases {
		if !r.Healthy() {
			return false
		}
	}
	return true
}

// ReleaseState says how much is known of a HelmRelease's Helm release.
type ReleaseState string

// Release states.
const (
	// ReleaseFound: Helm's storage has the release; Revision and Status
	// hold its newest revision.
	ReleaseFound ReleaseState = "found"
	// ReleaseNotInstalled: Helm's storage has no revision of it.
	ReleaseNotInstalled ReleaseState = "not-installed"
	// ReleaseNotReadable: the credentials may not read Helm's storage
	// (Secrets in the storage namespace).
	ReleaseNotReadable ReleaseState = "not-readable"
	// ReleaseError: reading the storage failed otherwise (Err says why).
	ReleaseError ReleaseState = "error"
)

// ReleaseStatus is a HelmRelease's Helm release as Helm's storage has it.
type ReleaseStatus struct {
	// Ref is the HelmRelease.
	Ref              KustomizationRef `json:"ref"`
	Release          string           `json:"release"`
	StorageNamespace string           `json:"storageNamespace"`
	State            ReleaseState     `json:"state"`
	Revision         int              `json:"revision,omitempty"`
	// Status is Helm's status of the newest revision (deployed, failed…).
	Status string `json:"status,omitempty"`
	Chart  string `json:"chart,omitempty"`
	// Err is why the storage could not be read (State error); Reason
	// classifies it.
	Err    error  `json:"-"`
	Reason Reason `json:"reason,omitempty"`
}

// Healthy reports whether the release is deployed, or cannot be read.
func (r *ReleaseStatus) Healthy() bool {
	switch r.State {
	case ReleaseFound:
		return r.Status == "deployed"
	case ReleaseNotReadable:
		return true
	}
	return false
}

// DriftStatus is the answer of a drift check of the deployed revision.
type DriftStatus struct {
	// Revision is the commit built to compare with the cluster.
	Revision string     `json:"revision,omitempty"`
	Drifted  []ObjectID `json:"drifted"`
	// Err is why drift could not be checked; Reason classifies it.
	Err    error  `json:"-"`
	Reason Reason `json:"reason,omitempty"`
}

// Healthy reports whether the cluster path has no problem: its last deploy
// succeeded, every object is healthy, no drift was found and everything
// could be read.
func (c *ClusterStatus) Healthy() bool {
	if c.Err != nil || (c.Deployed != nil && !c.Deployed.Succeeded()) {
		return false
	}
	if c.Drift != nil && (c.Drift.Err != nil || len(c.Drift.Drifted) > 0) {
		return false
	}
	for _, k := range c.Kustomizations {
		if !k.Healthy() {
			return false
		}
	}
	return true
}

// Healthy reports whether every cluster path is healthy.
func (s *LiveStatus) Healthy() bool {
	for _, c := range s.Clusters {
		if !c.Healthy() {
			return false
		}
	}
	return true
}

// MarshalJSON adds the error's text.
func (c *ClusterStatus) MarshalJSON() ([]byte, error) {
	type plain ClusterStatus
	return json.Marshal(struct {
		*plain
		Error string `json:"error,omitempty"`
	}{(*plain)(c), errText(c.Err)})
}

// MarshalJSON adds the error's text.
func (r *ReleaseStatus) MarshalJSON() ([]byte, error) {
	type plain ReleaseStatus
	return json.Marshal(struct {
		*plain
		Error string `json:"error,omitempty"`
	}{(*plain)(r), errText(r.Err)})
}

// MarshalJSON adds the error's text.
func (d *DriftStatus) MarshalJSON() ([]byte, error) {
	type plain DriftStatus
	return json.Marshal(struct {
		*plain
		Error string `json:"error,omitempty"`
	}{(*plain)(d), errText(d.Err)})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
