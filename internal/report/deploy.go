package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// DeployText renders deploys the way the Flux CLI prints changes:
// "► Kind/ns/name created" per change, unchanged objects counted. Error
// text from the API server can echo field values, so everything passes
// through the masker of the builds' secret values.
func DeployText(w io.Writer, deploys []*result.ClusterDeploy, m *Masker) error {
	var b strings.Builder
	for _, cd := range deploys {
		verb := "deployed"
		if cd.DryRun {
			verb = "dry-run"
		}
		switch {
		case cd.OutOfOrder:
			// Not a failure: a newer commit got there first.
			fmt.Fprintf(&b, "! %s: %s\n", cd.Path, cd.Error)
			continue
		case cd.Error != "":
			fmt.Fprintf(&b, "✗ %s: %s\n", cd.Path, cd.Error)
			continue
		}
		for _, kd := range cd.Kustomizations {
			unchanged := 0
			fmt.Fprintf(&b, "► Kustomization/%s %s", kd.Ref, kd.Status)
			if kd.Duration > 0 {
				fmt.Fprintf(&b, " (%s)", kd.Duration.Round(1e6))
			}
			b.WriteString("\n")
			for _, c := range kd.Changes {
				if c.Action == result.ActionUnchanged {
					unchanged++
					continue
				}
				mark := "►"
				if c.Action == result.ActionFailed {
					mark = "✗"
				}
				fmt.Fprintf(&b, "  %s %s %s", mark, c.ID, c.Action)
				if c.Message != "" {
					fmt.Fprintf(&b, " (%s)", c.Message)
				}
				b.WriteString("\n")
			}
			if unchanged > 0 {
				fmt.Fprintf(&b, "  ✔ %d unchanged\n", unchanged)
			}
			for _, rd := range kd.Releases {
				releaseLine(&b, rd)
			}
			for _, u := range kd.Unhealthy {
				fmt.Fprintf(&b, "  ✗ %s not ready: %s", u.ID, u.Message)
				if o := u.Origin.String(); o != "" {
					fmt.Fprintf(&b, " (%s)", o)
				}
				b.WriteString("\n")
			}
			if kd.Error != "" {
				fmt.Fprintf(&b, "  ✗ %s\n", kd.Error)
			}
		}
		mark := "✔"
		if cd.Failed() {
			mark = "✗"
		}
		fmt.Fprintf(&b, "%s %s %s in %s, %d API requests\n", mark, cd.Path, verb, cd.Duration.Round(1e6), cd.Requests)
	}
	_, err := io.WriteString(w, m.Mask(b.String()))
	return err
}

// releaseLine says what happened to one Helm release: action, release,
// revision and chart, and why when it did not succeed.
func releaseLine(b *strings.Builder, rd *result.ReleaseDeploy) {
	mark := "►"
	switch rd.Action {
	case result.ReleaseFailed, result.ReleaseRolledBack:
		mark = "✗"
	case result.ReleaseUnchanged:
		mark = "✔"
	}
	fmt.Fprintf(b, "  %s HelmRelease/%s %s", mark, rd.Ref, rd.Action)
	var facts []string
	if rd.ReleaseName != "" {
		facts = append(facts, "release "+rd.ReleaseName)
	}
	if rd.Revision > 0 {
		facts = append(facts, fmt.Sprintf("revision %d", rd.Revision))
	}
	if rd.Chart.Name != "" {
		facts = append(facts, "chart "+rd.Chart.Name+"@"+rd.Chart.Version)
	}
	if len(facts) > 0 {
		fmt.Fprintf(b, " (%s)", strings.Join(facts, ", "))
	}
	switch rd.Action {
	case result.ReleaseFailed, result.ReleaseRolledBack, result.ReleaseSkipped:
		if rd.Message != "" {
			fmt.Fprintf(b, ": %s", oneLine(rd.Message))
		}
	}
	if len(rd.Drift) > 0 {
		ids := make([]string, len(rd.Drift))
		for i, id := range rd.Drift {
			ids[i] = id.String()
		}
		fmt.Fprintf(b, "; changed in the cluster since released: %s", strings.Join(ids, ", "))
	}
	b.WriteString("\n")
}

// DeployJSON renders deploys as JSON, masked like DeployText.
func DeployJSON(w io.Writer, deploys []*result.ClusterDeploy, m *Masker) error {
	data, err := json.MarshalIndent(deploys, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, m.Mask(string(data))+"\n")
	return err
}
