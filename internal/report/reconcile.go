package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/result"
)

// driftRow is one line of a drift report: an object's field that differed
// from Git, a whole object gone, or a Helm release's object.
type driftRow struct {
	object, field string
	// live and want are shown as given; Secrets' are empty (never shown).
	live, want string
	missing    bool
	gone       bool
	// release names the HelmRelease and its message for release objects.
	release, message string
}

// driftRows are the drift a reconcile found, for the objects its deploy
// changed (or, dry-run, would change), then the Helm release objects that
// differed from their release manifest.
func driftRows(cd *result.ClusterDeploy, drift map[string]*result.ObjectDrift) []driftRow {
	if cd == nil {
		return nil
	}
	var rows []driftRow
	for _, kd := range cd.Kustomizations {
		for _, c := range kd.Changes {
			od := drift[c.ID.InventoryKey()]
			if od == nil || (c.Action != result.ActionConfigured && c.Action != result.ActionCreated) {
				continue
			}
			if od.Gone {
				rows = append(rows, driftRow{object: od.ID.String(), gone: true})
				continue
			}
			for _, f := range od.Fields {
				rows = append(rows, driftRow{object: od.ID.String(), field: f.Path, live: f.Live, want: f.Want, missing: f.Missing})
			}
		}
	}
	for _, kd := range cd.Kustomizations {
		for _, rel := range kd.Releases {
			for _, id := range rel.Drift {
				rows = append(rows, driftRow{object: id.String(), release: rel.Ref.String(), message: collapseSpace(rel.Message)})
			}
		}
	}
	return rows
}

// DriftMarkdown lists, for the objects a reconcile or drift check found
// changed in the cluster, which fields differed from Git (Secret values
// never shown), as a markdown table. Empty when nothing drifted.
func DriftMarkdown(cd *result.ClusterDeploy, drift map[string]*result.ObjectDrift, driftOnly bool) string {
	var lines []string
	for _, r := range driftRows(cd, drift) {
		obj := MarkdownEscape(r.object)
		switch {
		case r.gone:
			lines = append(lines, fmt.Sprintf("| %s | (whole object) | deleted from the cluster | |", obj))
		case r.release != "":
			lines = append(lines, fmt.Sprintf("| %s (HelmRelease %s) | (release object) | differs from the release manifest: %s | |", obj, MarkdownEscape(r.release), MarkdownEscape(r.message)))
		default:
			live := "`" + MarkdownEscape(r.live) + "`"
			switch {
			case r.missing:
				live = "(missing)"
			case r.live == "" && r.want == "":
				live = "(changed; value not shown)"
			}
			want := ""
			if r.want != "" {
				want = "`" + MarkdownEscape(r.want) + "`"
			}
			lines = append(lines, fmt.Sprintf("| %s | `%s` | %s | %s |", obj, MarkdownEscape(r.field), live, want))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	verb := "reverted"
	if driftOnly {
		verb = "not changed (drift mode)"
	}
	return fmt.Sprintf("**Drift** (%s):\n\n| Object | Field | In the cluster | In Git |\n|---|---|---|---|\n%s\n\n", verb, strings.Join(lines, "\n"))
}

// TargetNoteMarkdown explains, for the action's summary, which commit a
// scheduled reconcile deploys to a cluster path and why; "" when there is
// nothing to explain (reconcile-to: head, a rollback, a record that could
// not be read: the path's own row says so).
func TargetNoteMarkdown(path string, t result.ReconcileTarget, head string) string {
	p := "`" + MarkdownEscape(path) + "`"
	switch {
	case t.Reason == result.TargetRecorded && t.Err != nil && t.Recorded != nil:
		return p + ": not deployed: " + collapseSpace(t.Err.Error())
	case t.Err != nil:
		return ""
	case t.Reason == result.TargetNoRecord:
		return p + ": no deploy recorded on the cluster yet: deploying the checkout " + shortSHA(head) + "."
	case t.Reason == result.TargetCheckout:
		return p + ": runs the checkout " + shortSHA(head) + " (recorded " + recordWhen(t.Recorded) + ")."
	case t.Reason == result.TargetRecorded:
		return fmt.Sprintf("%s: reconciling to the recorded revision %s (deployed %s), not the checkout %s (reconcile-to: head would deploy the checkout).",
			p, shortSHA(t.Commit), recordWhen(t.Recorded), shortSHA(head))
	}
	return ""
}

// TargetText says in a line which commit a reconcile deployed and why.
func TargetText(t result.ReconcileTarget, head string) string {
	if t.Commit == "" {
		if t.Recorded != nil {
			return "the recorded revision " + shortSHA(t.Recorded.Revision)
		}
		return "unknown"
	}
	switch t.Reason {
	case result.TargetNoRecord:
		return shortSHA(t.Commit) + ", the checkout: no deploy recorded on the cluster yet"
	case result.TargetCheckout:
		return shortSHA(t.Commit) + ", recorded as deployed (" + recordWhen(t.Recorded) + "), which is the checkout"
	case result.TargetRecorded:
		return shortSHA(t.Commit) + ", recorded as deployed (" + recordWhen(t.Recorded) + "); the checkout is " + shortSHA(head)
	case result.TargetHead:
		return shortSHA(t.Commit) + ", the checkout, as asked (to head), whatever the cluster records"
	case result.TargetRevision:
		return shortSHA(t.Commit) + ", the revision asked for"
	}
	return "none"
}

func recordWhen(rec *result.DeployRecord) string {
	if rec == nil {
		return "never"
	}
	s := rec.At.UTC().Format(time.RFC3339)
	if rec.Outcome != "" {
		s += ", " + rec.Outcome
	}
	return s
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// ReconcileText renders a reconcile per cluster path: the commit it was
// reconciled to and why, what had drifted (object and field; Secret values
// never), then what the deploy changed: reverted, or in drift-only mode
// what a redeploy would revert.
func ReconcileText(w io.Writer, res *result.Reconcile, m *Masker) error {
	var b strings.Builder
	for _, pr := range res.Paths {
		mark := "✔"
		if pr.Failed() {
			mark = "✗"
		}
		fmt.Fprintf(&b, "%s %s: target %s\n", mark, pr.Path, TargetText(pr.Target, res.Head))
		if pr.Err != nil {
			fmt.Fprintf(&b, "  not reconciled: %s\n", collapseSpace(pr.Err.Error()))
			continue
		}
		rows := driftRows(pr.Deploy, pr.Drift)
		for _, r := range rows {
			b.WriteString("  drifted: " + driftRowText(r) + "\n")
		}
		switch {
		case pr.Deploy == nil:
		case !pr.Drifted():
			b.WriteString("  no drift: the cluster holds what Git says\n")
		case res.DriftOnly:
			b.WriteString("  drift only: nothing was changed; `slipway reconcile` would revert it\n")
		default:
			b.WriteString("  reverted: the commit was redeployed\n")
		}
		if pr.Deploy != nil {
			var d strings.Builder
			if err := DeployText(&d, []*result.ClusterDeploy{pr.Deploy}, m); err != nil {
				return err
			}
			for _, line := range strings.Split(strings.TrimRight(d.String(), "\n"), "\n") {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	_, err := io.WriteString(w, m.Mask(b.String()))
	return err
}

func driftRowText(r driftRow) string {
	switch {
	case r.gone:
		return r.object + ": deleted from the cluster"
	case r.release != "":
		return r.object + " (HelmRelease " + r.release + "): differs from the release manifest: " + r.message
	case r.missing:
		return fmt.Sprintf("%s %s: missing in the cluster, %q in Git", r.object, r.field, r.want)
	case r.live == "" && r.want == "":
		return r.object + " " + r.field + ": changed (value not shown)"
	}
	return fmt.Sprintf("%s %s: %q in the cluster, %q in Git", r.object, r.field, r.live, r.want)
}

// ReconcileJSON renders a reconcile as JSON, masked.
func ReconcileJSON(w io.Writer, res *result.Reconcile, m *Masker) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, m.Mask(string(data))+"\n")
	return err
}
