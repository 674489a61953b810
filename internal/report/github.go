package report

import (
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// Markdown for GitHub (check runs, pull request comments, the job
// summary) from the result model alone; the action assembles these per
// cluster path. Text from the repository (names, messages, file names) is
// escaped for markdown tables; the caller masks.

// MarkdownEscape makes text safe inside a markdown table cell or a line: no
// table breaks, no HTML (a fake "<!-- slipway:…" marker), no line breaks.
func MarkdownEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " ", "`", "'")
	return r.Replace(s)
}

// ChangeTable lists what a deploy changed or would change; unchanged
// objects are counted, not listed.
func ChangeTable(cd *result.ClusterDeploy) string {
	var b strings.Builder
	if cd.Error != "" {
		fmt.Fprintf(&b, "✗ %s\n\n", MarkdownEscape(cd.Error))
	}
	b.WriteString(StatusTable(cd))
	unchanged := 0
	rows := 0
	for _, kd := range cd.Kustomizations {
		for _, c := range kd.Changes {
			if c.Action == result.ActionUnchanged {
				unchanged++
				continue
			}
			if rows == 0 {
				b.WriteString("| Kustomization | Object | Action | Source |\n|---|---|---|---|\n")
			}
			rows++
			action := string(c.Action)
			if c.Message != "" {
				action += ": " + c.Message
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", MarkdownEscape(kd.Ref.String()), MarkdownEscape(c.ID.String()), MarkdownEscape(action), MarkdownEscape(c.Origin.String()))
		}
		for _, rel := range kd.Releases {
			if rel.Action == result.ReleaseUnchanged {
				continue
			}
			if rows == 0 {
				b.WriteString("| Kustomization | Object | Action | Source |\n|---|---|---|---|\n")
			}
			rows++
			fmt.Fprintf(&b, "| %s | HelmRelease/%s | %s | %s |\n", MarkdownEscape(kd.Ref.String()), MarkdownEscape(rel.Ref.String()), MarkdownEscape(string(rel.Action)+" "+rel.Message), MarkdownEscape(rel.Origin.String()))
		}
	}
	if rows == 0 && cd.Error == "" {
		b.WriteString("No changes.")
	}
	if unchanged > 0 {
		fmt.Fprintf(&b, "\n%d object(s) unchanged.", unchanged)
	}
	b.WriteString("\n")
	return b.String()
}

// StatusTable counts the Kustomizations by status and lists those not
// applied, with why: a deploy that applied some Kustomizations and not
// others says which.
func StatusTable(cd *result.ClusterDeploy) string {
	if len(cd.Kustomizations) == 0 {
		return ""
	}
	counts := map[result.Status]int{}
	var order []result.Status
	var b strings.Builder
	for _, kd := range cd.Kustomizations {
		if counts[kd.Status] == 0 {
			order = append(order, kd.Status)
		}
		counts[kd.Status]++
	}
	parts := make([]string, 0, len(order))
	for _, st := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
	}
	fmt.Fprintf(&b, "Kustomizations: %s.\n\n", strings.Join(parts, ", "))
	rows := 0
	for _, kd := range cd.Kustomizations {
		if kd.Status == result.StatusApplied {
			continue
		}
		if rows == 0 {
			b.WriteString("| Kustomization | Status | Why |\n|---|---|---|\n")
		}
		rows++
		fmt.Fprintf(&b, "| %s | %s | %s |\n", MarkdownEscape(kd.Ref.String()), kd.Status, MarkdownEscape(collapseSpace(kd.Error)))
	}
	if rows > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// outcome of a Kustomization for the graph's colours.
func outcomes(cb *result.ClusterBuild, cd *result.ClusterDeploy) map[result.KustomizationRef]string {
	out := map[result.KustomizationRef]string{}
	if cb != nil {
		for _, kb := range cb.Kustomizations {
			out[kb.Ref] = "ok"
			if kb.Suspended {
				out[kb.Ref] = "skipped"
			}
		}
		for _, f := range cb.Findings {
			if f.Severity == result.SeverityError && f.Kustomization != nil {
				out[*f.Kustomization] = "failed"
			}
		}
	}
	if cd != nil {
		for _, kd := range cd.Kustomizations {
			switch kd.Status {
			case result.StatusFailed:
				out[kd.Ref] = "failed"
			case result.StatusBlocked:
				out[kd.Ref] = "blocked"
			case result.StatusSuspended:
				out[kd.Ref] = "skipped"
			}
		}
	}
	return out
}

// releaseOutcomes colours HelmReleases: not rendered or failed/rolled back
// is failed, suspended or skipped is grey; others follow their
// Kustomization.
func releaseOutcomes(cb *result.ClusterBuild, cd *result.ClusterDeploy) map[result.KustomizationRef]string {
	out := map[result.KustomizationRef]string{}
	if cb != nil {
		for _, kb := range cb.Kustomizations {
			for _, rb := range kb.Releases {
				switch {
				case rb.Err != nil:
					out[rb.Ref] = "failed"
				case rb.Suspended:
					out[rb.Ref] = "skipped"
				}
			}
		}
	}
	if cd != nil {
		for _, kd := range cd.Kustomizations {
			for _, rd := range kd.Releases {
				switch rd.Action {
				case result.ReleaseFailed, result.ReleaseRolledBack:
					out[rd.Ref] = "failed"
				case result.ReleaseSkipped:
					out[rd.Ref] = "skipped"
				case result.ReleaseInstalled, result.ReleaseUpgraded, result.ReleaseUnchanged:
					out[rd.Ref] = "ok"
				}
			}
		}
	}
	return out
}

// mermaidLabel keeps a label inside its quotes.
func mermaidLabel(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ", "<", "#lt;", ">", "#gt;").Replace(s)
}

// FindingsMarkdown is a fenced block of findings (info left out), one
// FindingLine each, for a check run or a job summary.
func FindingsMarkdown(findings []result.Finding) string {
	var b strings.Builder
	b.WriteString("```\n")
	for _, f := range findings {
		if f.Severity == result.SeverityInfo {
			continue
		}
		b.WriteString(strings.ReplaceAll(FindingLine(f), "```", "'''") + "\n")
	}
	b.WriteString("```\n\n")
	return b.String()
}

// collapseSpace puts a multi-line message on one table row.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
