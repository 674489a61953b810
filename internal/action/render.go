package action

import (
	"fmt"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// The renderers here read the result model and produce markdown for check
// runs, comments and the job summary. Text from the repository (names,
// messages, file names) is escaped for markdown tables and masked.

func buildsOf(pr *pathReport) []*result.ClusterBuild {
	if pr.build == nil {
		return nil
	}
	return []*result.ClusterBuild{pr.build}
}

func mark(failed bool) string {
	if failed {
		return "✗"
	}
	return "✔"
}

// pathSummary is the check run summary: counts, timings, the change table.
func pathSummary(pr *pathReport, m *report.Masker) string {
	var b strings.Builder
	objects := 0
	if pr.build != nil {
		for _, kb := range pr.build.Kustomizations {
			objects += len(kb.Objects)
		}
	}
	c := report.Count(buildsOf(pr))
	fmt.Fprintf(&b, "### %s `%s`: %s\n\n", mark(pr.failed()), pr.path, checkTitle(pr))
	b.WriteString("| | |\n|---|---|\n")
	if pr.build != nil {
		fmt.Fprintf(&b, "| Kustomizations | %d |\n| Objects | %d |\n", len(pr.build.Kustomizations), objects)
		fmt.Fprintf(&b, "| Errors / warnings | %d / %d |\n| Build and validation | %s |\n", c.Errors, c.Warnings, round(pr.build.Duration))
	}
	ran := pr.deploy != nil && pr.notDeployed == ""
	if ran {
		label := "Deploy"
		if pr.dryRun {
			label = "Live diff (dry-run)"
		}
		fmt.Fprintf(&b, "| %s | %s, %d API requests |\n", label, round(pr.deploy.Duration), pr.deploy.Requests)
	}
	if pr.revision != "" {
		fmt.Fprintf(&b, "| Revision | %s |\n", report.MarkdownEscape(pr.revision))
	}
	if pr.notDeployed != "" {
		fmt.Fprintf(&b, "| Deploy | ✗ %s |\n", report.MarkdownEscape(pr.notDeployed))
	}
	if pr.diff != nil {
		fmt.Fprintf(&b, "| Offline diff | %s |\n", map[bool]string{true: "changes", false: "no changes"}[pr.diff.Changed])
	}
	b.WriteString("\n")
	if ran {
		b.WriteString(report.ChangeTable(pr.deploy) + "\n")
		b.WriteString(report.DriftMarkdown(pr.deploy, pr.drift, pr.dryRun))
	}
	return m.Mask(b.String())
}

func round(d time.Duration) string { return d.Round(time.Millisecond).String() }

// pathText is the check run text: the Kustomizations' dependency picture
// coloured by outcome (on a pull request, by what it changes), then every
// finding and the deploy log.
func pathText(pr *pathReport, m *report.Masker) string {
	var b strings.Builder
	b.WriteString(kustomizationGraph(pr))
	if pr.build != nil && len(pr.build.Findings) > 0 {
		b.WriteString("#### Findings\n\n```\n")
		for _, f := range pr.build.Findings {
			b.WriteString(strings.ReplaceAll(report.FindingLine(f), "```", "'''") + "\n")
		}
		b.WriteString("```\n\n")
	}
	if pr.deploy != nil {
		var d strings.Builder
		_ = report.DeployText(&d, []*result.ClusterDeploy{pr.deploy}, m)
		b.WriteString("#### Deploy\n\n```\n" + strings.ReplaceAll(d.String(), "```", "'''") + "```\n\n")
	}
	if pr.diff != nil && pr.diff.Changed {
		b.WriteString("#### Diff\n\n" + pr.diff.Markdown + "\n")
	}
	return m.Mask(b.String())
}

// annotations point at the file and line of each failing object. Findings
// and failures without a file are in the summary and text only: GitHub
// needs a path for an annotation.
func annotations(pr *pathReport, m *report.Masker) []github.Annotation {
	var out []github.Annotation
	add := func(o result.Origin, level github.AnnotationLevel, title, msg string) {
		if o.File == "" {
			return
		}
		out = append(out, github.Annotation{Path: o.File, StartLine: max(o.Line, 1), EndLine: max(o.Line, 1),
			Level: level, Title: m.Mask(title), Message: m.Mask(msg)})
	}
	if pr.build != nil {
		for _, f := range pr.build.Findings {
			level := github.LevelFailure
			switch f.Severity {
			case result.SeverityWarning:
				level = github.LevelWarning
			case result.SeverityInfo:
				continue
			}
			subject := ""
			if f.Object != nil {
				subject = f.Object.String() + ": "
			} else if f.Kustomization != nil {
				subject = "Kustomization/" + f.Kustomization.String() + ": "
			}
			add(f.Origin, level, fmt.Sprintf("slipway %s [%s]", pr.path, f.Check), subject+f.Message)
		}
	}
	if pr.deploy != nil {
		for _, kd := range pr.deploy.Kustomizations {
			for _, c := range kd.Changes {
				if c.Action == result.ActionFailed {
					add(c.Origin, github.LevelFailure, "slipway "+pr.path+": apply failed", c.ID.String()+": "+c.Message)
				}
			}
			for _, u := range kd.Unhealthy {
				add(u.Origin, github.LevelFailure, "slipway "+pr.path+": not ready", u.ID.String()+": "+u.Message)
			}
			if kd.Error != "" && (kd.Status == result.StatusFailed) {
				add(kd.Origin, github.LevelFailure, "slipway "+pr.path+": Kustomization failed", "Kustomization/"+kd.Ref.String()+": "+kd.Error)
			}
		}
	}
	return out
}

// commentBody renders a path's pull request comment; "" means the path has
// no changes (any comment goes). known is false when nothing is known about
// the changes (no diff ran), so an existing comment is left alone.
func commentBody(pr *pathReport, m *report.Masker) (body string, known bool) {
	switch {
	case pr.diff != nil && pr.diff.Changed:
		// The diff carries its own heading naming the path and revisions.
		body = pr.diff.Markdown + "\n"
	case pr.diff != nil:
		known = true
	}
	if pr.deploy != nil && pr.dryRun {
		known = true
		if changedAny(pr.deploy) {
			if body == "" {
				body = fmt.Sprintf("### slipway: changes to `%s`\n\n", pr.path)
			}
			heading := "Live diff (server-side dry-run)"
			if pr.wholePath {
				heading = "Live diff (server-side dry-run) of the whole cluster path, not narrowed by the selection"
			}
			body += "\n#### " + heading + "\n\n" + report.ChangeTable(pr.deploy)
		}
	}
	if body != "" {
		known = true
		if pr.failed() {
			body += fmt.Sprintf("\n✗ %s: see the check `%s`.\n", checkTitle(pr), checkName(pr.path))
		}
	}
	return m.Mask(body), known
}

// summary is the job summary: what ran and why, then every path.
func (r *run) summary(p *plan, reports []*pathReport, m *report.Masker) string {
	var b strings.Builder
	b.WriteString("## slipway\n\n")
	fmt.Fprintf(&b, "Event `%s`, mode `%s`", r.event.Name, r.in.Mode)
	if r.sha != "" {
		fmt.Fprintf(&b, ", commit `%s`", short(r.sha))
	}
	fmt.Fprintf(&b, ", %s.\n\n", round(time.Since(r.start)))
	for _, n := range p.notes {
		b.WriteString("- " + n + "\n")
	}
	for _, w := range r.warnings {
		b.WriteString("- ⚠ " + report.MarkdownEscape(w) + "\n")
	}
	if len(p.notes)+len(r.warnings) > 0 {
		b.WriteString("\n")
	}
	for _, pr := range reports {
		if !pr.selected {
			c := report.Count(buildsOf(pr))
			fmt.Fprintf(&b, "### %s `%s`: validated only (%d error(s), %d warning(s))\n\n", mark(pr.failed()), pr.path, c.Errors, c.Warnings)
			if c.Errors+c.Warnings > 0 {
				b.WriteString(findingsBlock(pr))
			}
			continue
		}
		b.WriteString(pathSummary(pr, m))
		if pr.build != nil && len(pr.build.Findings) > 0 {
			b.WriteString(findingsBlock(pr))
		}
		if pr.diff != nil && pr.diff.Changed {
			// The graph marks what the change touches (see report.KustomizationGraph), as
			// the check run's text does.
			if g := kustomizationGraph(pr); g != "" {
				b.WriteString("<details><summary>What this change touches in " + report.MarkdownEscape(pr.path) + "</summary>\n\n" + g + "\n</details>\n\n")
			}
			b.WriteString("<details><summary>Diff of " + report.MarkdownEscape(pr.path) + "</summary>\n\n" + pr.diff.Markdown + "\n\n</details>\n\n")
		}
	}
	return m.Mask(b.String())
}

// findingsBlock lists a path's findings, info left out.
func findingsBlock(pr *pathReport) string {
	return report.FindingsMarkdown(pr.build.Findings)
}

// kustomizationGraph is the path's Mermaid graph (see
// report.KustomizationGraph), by change on a pull request.
func kustomizationGraph(pr *pathReport) string {
	return report.KustomizationGraph(pr.build, pr.deploy, prDiff(pr))
}

// prDiff is the path's diff when the run has one (a pull request, a diff
// run), nil otherwise.
func prDiff(pr *pathReport) *diff.ClusterDiff {
	if pr.diff == nil || pr.diff.Result == nil {
		return nil
	}
	for _, cd := range pr.diff.Result.Clusters {
		if cd.Path == pr.path {
			return cd
		}
	}
	return nil
}

// diffDocument joins the diffs of every path, for the diff-file output.
func diffDocument(reports []*pathReport) string {
	var b strings.Builder
	for _, pr := range reports {
		if pr.diff != nil && pr.diff.Changed {
			fmt.Fprintf(&b, "## %s\n\n%s\n\n", pr.path, pr.diff.Markdown)
		}
	}
	return b.String()
}

// writeHTMLReport writes the run's HTML report beside the summary
// (.slipway/report.html, for actions/upload-artifact) and names it in the
// html-file output: every path's findings and the diff of the selected
// paths, one self-contained page.
func (r *run) writeHTMLReport(builds []*result.ClusterBuild, reports []*pathReport, m *report.Masker) {
	var d *diff.Result
	for _, pr := range reports {
		if pr.diff == nil || pr.diff.Result == nil {
			continue
		}
		if d == nil {
			d = &diff.Result{Base: pr.diff.Result.Base, Head: pr.diff.Result.Head}
		}
		d.Clusters = append(d.Clusters, pr.diff.Result.Clusters...)
	}
	title := "slipway: " + r.event.Name
	if r.sha != "" {
		title += " " + short(r.sha)
	}
	var b strings.Builder
	if err := report.HTML(&b, report.HTMLOptions{Title: title, Diff: d, Builds: builds, Masker: m}); err != nil {
		r.rt.Warningf("HTML report: %v", err)
		return
	}
	file := r.writeWorkspaceFile("report.html", b.String())
	if err := r.rt.SetOutput("html-file", file); err != nil {
		r.rt.Warningf("setting output html-file: %v", err)
	}
}
