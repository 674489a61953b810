package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/result"
)

// healthOrder is the order counts are printed in: the healthy first, as
// `flux get` prints Ready before the message.
var healthOrder = []result.Health{result.HealthCurrent, result.HealthInProgress, result.HealthFailed, result.HealthNotFound, result.HealthUnknown, result.HealthNotReadable}

// StatusText renders a status the way `flux get kustomizations` and `flux
// tree` read together: per cluster path its last deploy, then per
// Kustomization a ✔ or ✗, the object counts by health and the objects and
// releases that are not healthy. now is the time ages are counted from.
func StatusText(w io.Writer, s *result.LiveStatus, now time.Time) error {
	var b strings.Builder
	if len(s.Clusters) == 0 {
		b.WriteString("no cluster path was deployed to this cluster\n")
	}
	for _, c := range s.Clusters {
		clusterText(&b, c, now)
	}
	b.WriteString(StatusVerdict(s) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// StatusVerdict is the closing line of a status.
func StatusVerdict(s *result.LiveStatus) string {
	bad := 0
	for _, c := range s.Clusters {
		if !c.Healthy() {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Sprintf("✗ %d of %d cluster path(s) not healthy", bad, len(s.Clusters))
	}
	return fmt.Sprintf("✔ %d cluster path(s) healthy", len(s.Clusters))
}

func clusterText(b *strings.Builder, c *result.ClusterStatus, now time.Time) {
	fmt.Fprintf(b, "► %s\n", c.Path)
	fmt.Fprintf(b, "  %s\n", DeployLine(c.Deployed, now))
	if c.DeployingBy != "" {
		fmt.Fprintf(b, "  deploying now: %s\n", c.DeployingBy)
	}
	for _, k := range c.Kustomizations {
		kustomizationText(b, k)
	}
	if c.Err != nil {
		fmt.Fprintf(b, "  ✗ %s\n", c.Err)
	}
	fmt.Fprintf(b, "  %s\n", driftLine(c.Drift))
}

// DeployLine says what the last deploy was: "deployed abc123def456
// (succeeded) 3h ago by <run> with slipway v1.2.0".
func DeployLine(r *result.DeployRecord, now time.Time) string {
	if r == nil {
		return "deployed: no record (never finished a deploy)"
	}
	rev := r.Revision
	if rev == "" {
		rev = "(not a Git revision)"
	} else if len(rev) > 12 {
		rev = rev[:12]
	}
	mark := "✔"
	if !r.Succeeded() {
		mark = "✗"
	}
	line := fmt.Sprintf("%s deployed %s (%s) %s", mark, rev, r.Outcome, Age(now.Sub(r.At)))
	if r.By != "" {
		line += " by " + r.By
	}
	if r.Version != "" {
		line += " with slipway " + r.Version
	}
	return line
}

func kustomizationText(b *strings.Builder, k *result.KustomizationStatus) {
	mark := "✔"
	if !k.Healthy() {
		mark = "✗"
	}
	fmt.Fprintf(b, "  %s %s: %s\n", mark, k.Ref, HealthCounts(k))
	for _, o := range k.NotCurrent {
		line := fmt.Sprintf("      %s %s", o.ID, o.Health)
		if o.Message != "" {
			line += ": " + o.Message
		}
		b.WriteString(line + "\n")
	}
	for _, r := range k.Releases {
		fmt.Fprintf(b, "      HelmRelease/%s: %s\n", r.Ref, ReleaseLine(r))
	}
}

// HealthCounts summarises a Kustomization's objects: "12 objects: 11
// Current, 1 InProgress"; health values with no object are left out.
func HealthCounts(k *result.KustomizationStatus) string {
	var parts []string
	for _, h := range healthOrder {
		if n := k.Health[h]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, h))
		}
	}
	s := fmt.Sprintf("%d object", k.Objects)
	if k.Objects != 1 {
		s += "s"
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if n := len(k.Releases); n > 0 {
		s += fmt.Sprintf(", %d HelmRelease", n)
		if n != 1 {
			s += "s"
		}
	}
	return s
}

// ReleaseLine says what Helm's storage has of a HelmRelease's release.
func ReleaseLine(r *result.ReleaseStatus) string {
	name := "release " + r.StorageNamespace + "/" + r.Release
	switch r.State {
	case result.ReleaseFound:
		s := fmt.Sprintf("%s revision %d %s", name, r.Revision, r.Status)
		if r.Chart != "" {
			s += " (" + r.Chart + ")"
		}
		return s
	case result.ReleaseNotInstalled:
		return name + ": not installed"
	case result.ReleaseNotReadable:
		return name + ": not readable (RBAC: reading Helm's storage needs Secrets in " + r.StorageNamespace + ")"
	}
	return fmt.Sprintf("%s: %v", name, r.Err)
}

func driftLine(d *result.DriftStatus) string {
	switch {
	case d == nil:
		return "drift: not checked (--drift)"
	case d.Err != nil:
		return fmt.Sprintf("✗ drift: not checked: %v", d.Err)
	case len(d.Drifted) == 0:
		return "✔ drift: none"
	}
	ids := make([]string, len(d.Drifted))
	for i, id := range d.Drifted {
		ids[i] = id.String()
	}
	return fmt.Sprintf("✗ drift: %d object(s) differ from the deployed revision: %s", len(ids), strings.Join(ids, ", "))
}

// Age renders how long ago something happened the way kubectl's AGE
// column reads, coarsened to one unit: "40s ago", "3m ago", "3h ago",
// "2d ago". A time in the future (clock skew between the deploying runner
// and this machine) reads "just now".
func Age(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// StatusJSON renders a status as JSON, with a top-level "healthy".
func StatusJSON(w io.Writer, s *result.LiveStatus) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Healthy bool `json:"healthy"`
		*result.LiveStatus
	}{s.Healthy(), s})
}
