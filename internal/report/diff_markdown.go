package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/internal/diff"
)

// GitHubCommentLimit is the most characters GitHub accepts in an issue or
// pull request comment body.
const GitHubCommentLimit = 65536

// MarkdownOptions tune DiffMarkdown.
type MarkdownOptions struct {
	// Title heads the comment; "" gives "slipway diff".
	Title string
	// MaxBytes bounds the output; 0 means GitHubCommentLimit. When the diff
	// does not fit, the riskiest object diffs are kept (deletions, CRDs,
	// RBAC, then the rest) and the cut is said.
	MaxBytes int
	// FullDiff says where the whole diff can be read (a job summary, an
	// artifact URL), named in the cut note.
	FullDiff string
}

// block is one object's diff section, the unit that is kept or cut.
type block struct {
	cluster, ks int // indexes into the result
	text        string
	risk        int // lower is shown first when space is short
	order       int
}

// Risk ranks of object diffs when space is short.
const (
	riskDeletion = iota
	riskCRD
	riskRBAC
	riskOther
)

func objectRisk(od *diff.ObjectDiff) int {
	switch {
	case od.Action == diff.Removed:
		return riskDeletion
	case od.ID.Kind == "CustomResourceDefinition":
		return riskCRD
	case od.ID.Group == "rbac.authorization.k8s.io":
		return riskRBAC
	}
	return riskOther
}

// DiffMarkdown writes a diff for a pull request comment or a job summary:
// a table of counts per cluster path, deletions and build errors called
// out first, then a collapsible section per Kustomization with ```diff
// blocks. Call it with Result.ForPath to report one cluster path.
func DiffMarkdown(w io.Writer, d *diff.Result, opts MarkdownOptions) error {
	max := opts.MaxBytes
	if max <= 0 {
		max = GitHubCommentLimit
	}
	var blocks []*block
	for ci, cd := range d.Clusters {
		for ki, kd := range cd.Kustomizations {
			add := func(od *diff.ObjectDiff) {
				blocks = append(blocks, &block{cluster: ci, ks: ki, text: objectMarkdown(od), risk: objectRisk(od), order: len(blocks)})
			}
			for _, od := range kd.Objects {
				add(od)
			}
			for _, rd := range kd.Releases {
				for _, od := range rd.Objects {
					add(od)
				}
			}
		}
	}
	// Keep blocks riskiest first until the output fits; rendering again
	// after each cut keeps the wrappers' size exact.
	byRisk := append([]*block(nil), blocks...)
	sort.SliceStable(byRisk, func(i, j int) bool { return byRisk[i].risk < byRisk[j].risk })
	keep := map[*block]bool{}
	for _, b := range blocks {
		keep[b] = true
	}
	out := renderMarkdown(d, opts, blocks, keep, max)
	for i := len(byRisk) - 1; len(out) > max && i >= 0; i-- {
		delete(keep, byRisk[i])
		// Skip re-rendering while the cut plainly cannot be enough yet.
		if len(out)-len(byRisk[i].text) > max && i > 0 {
			out = out[:len(out)-len(byRisk[i].text)]
			continue
		}
		out = renderMarkdown(d, opts, blocks, keep, max)
	}
	if len(out) > max {
		// Even the summary does not fit: cut at a line, say so.
		note := "\n\n_✂ truncated to fit " + fmt.Sprint(max) + " bytes._\n"
		cut := max - len(note)
		if cut < 0 {
			cut = 0
		}
		out = out[:cut]
		if i := strings.LastIndexByte(out, '\n'); i >= 0 {
			out = out[:i]
		}
		out = strings.ToValidUTF8(out, "") + note
		if len(out) > max {
			out = out[:max]
		}
	}
	out += driftMarkdown(d, max-len(out))
	_, err := io.WriteString(w, out)
	return err
}

// driftMarkdown is the drift section (objects changed in the cluster by
// hand), object by object while it fits in room bytes.
func driftMarkdown(d *diff.Result, room int) string {
	if len(d.Drift) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n### Drift: the cluster differs from what " + mdInline(shortRev(d.DriftBase)) + " applied\n\n")
	cut := 0
	for _, cd := range d.Drift {
		for _, kd := range cd.Kustomizations {
			for _, od := range kd.Objects {
				text := objectMarkdown(od)
				if b.Len()+len(text) > room-100 {
					cut++
					continue
				}
				b.WriteString(text)
			}
		}
	}
	if cut > 0 {
		fmt.Fprintf(&b, "\n_✂ %d drifted objects not shown (size limit)._\n", cut)
	}
	if b.Len() > room {
		return ""
	}
	return b.String()
}

// renderMarkdown writes the comment top-down: overview, deletions and
// errors (never cut), then the changes with the object diffs kept by the
// budget, then what was cut.
func renderMarkdown(d *diff.Result, opts MarkdownOptions, blocks []*block, keep map[*block]bool, max int) string {
	var b strings.Builder
	writeOverview(&b, d, opts.Title, max)
	deletions, kept := removals(d)
	writeDeletions(&b, deletions, max)
	writeKept(&b, kept)
	errs, still := errorLines(d)
	writeCallout(&b, "> [!CAUTION]\n> **Build errors**\n>\n", errs)
	writeCallout(&b, "> [!NOTE]\n> **Already failing on the base** — not this change's doing:\n>\n", still)
	cutNames := writeChanges(&b, d, blocks, keep)
	if len(cutNames) > 0 {
		writeCutNote(&b, cutNames, opts.FullDiff, max)
	}
	return b.String()
}

// writeOverview writes the title, the image changes and the table of
// cluster paths. Image changes come first: the most common change of a
// fleet, and what a reviewer checks before reading YAML. They get at
// most a quarter of the budget.
func writeOverview(b *strings.Builder, d *diff.Result, title string, max int) {
	if title == "" {
		title = "slipway diff"
	}
	head := d.Head
	if head == "" {
		head = "worktree"
	}
	fmt.Fprintf(b, "### %s `%s` → `%s`\n\n", title, shortRev(d.Base), shortRev(head))
	b.WriteString(imagesMarkdown(d, max/4))
	b.WriteString("| cluster path | status | added | changed | removed | moved |\n|---|---|---:|---:|---:|---:|\n")
	for _, cd := range d.Clusters {
		fmt.Fprintf(b, "| `%s` | %s | %d | %d | %d | %d |\n", cd.Path, cd.Action, cd.Counts.Added, cd.Counts.Changed, cd.Counts.Removed, cd.Counts.Moved)
	}
	if s := ignoredText(d.Ignored); s != "" {
		fmt.Fprintf(b, "\n_%s_\n", mdInline(s))
	}
	b.WriteString("\n")
}

// removals lists, one Markdown line each, what would be deleted (cluster
// paths, Kustomizations, HelmReleases, objects) and the removed objects
// that stay in the cluster unmanaged (kept, with why).
func removals(d *diff.Result) (deletions, kept []string) {
	for _, cd := range d.Clusters {
		if cd.Action == diff.Removed {
			deletions = append(deletions, fmt.Sprintf("- cluster path `%s` removed", cd.Path))
		}
		for _, kd := range cd.Kustomizations {
			if kd.Action == diff.Removed {
				deletions = append(deletions, fmt.Sprintf("- `%s`: Kustomization `%s` removed", cd.Path, kd.Ref))
			}
			for _, rd := range kd.Releases {
				if rd.Action == diff.Removed {
					deletions = append(deletions, fmt.Sprintf("- `%s`: HelmRelease `%s` removed", cd.Path, rd.Ref))
				}
			}
			objs := append([]*diff.ObjectDiff(nil), kd.Objects...)
			for _, rd := range kd.Releases {
				objs = append(objs, rd.Objects...)
			}
			for _, od := range objs {
				switch {
				case od.Action == diff.Removed && od.Kept != "":
					kept = append(kept, fmt.Sprintf("- `%s`: `%s` (Kustomization `%s`; `%s`)", cd.Path, od.ID, kd.Ref, od.Kept))
				case od.Action == diff.Removed:
					deletions = append(deletions, fmt.Sprintf("- `%s`: `%s` (Kustomization `%s`)", cd.Path, od.ID, kd.Ref))
				}
			}
		}
	}
	return deletions, kept
}

// writeDeletions warns of deletions first, whatever else is cut; the
// list itself may not fit and gets at most half the budget.
func writeDeletions(b *strings.Builder, deletions []string, max int) {
	if len(deletions) == 0 {
		return
	}
	b.WriteString("> [!WARNING]\n> **Deletions** — these objects would be deleted (when the Kustomization prunes):\n>\n")
	used := 0
	for i, l := range deletions {
		if used+len(l) > max/2 {
			fmt.Fprintf(b, "> - … and %d more\n", len(deletions)-i)
			break
		}
		b.WriteString("> " + l + "\n")
		used += len(l) + 3
	}
	b.WriteString("\n")
}

// keptShown bounds the list of objects left unmanaged: a note, not a
// warning.
const keptShown = 20

func writeKept(b *strings.Builder, kept []string) {
	if len(kept) == 0 {
		return
	}
	b.WriteString("> [!NOTE]\n> **Left in the cluster, no longer managed** — removed from the repository, not deleted:\n>\n")
	for i, l := range kept {
		if i == keptShown {
			fmt.Fprintf(b, "> - … and %d more\n", len(kept)-i)
			break
		}
		b.WriteString("> " + l + "\n")
	}
	b.WriteString("\n")
}

// writeCallout writes a GitHub alert with one quoted line per entry;
// nothing without entries.
func writeCallout(b *strings.Builder, header string, lines []string) {
	if len(lines) == 0 {
		return
	}
	b.WriteString(header)
	for _, l := range lines {
		b.WriteString("> " + l + "\n")
	}
	b.WriteString("\n")
}

// writeChanges writes, per changed cluster path, each changed
// Kustomization in a collapsed section with the object diffs kept, and
// returns the first lines of the diffs cut for the budget.
func writeChanges(b *strings.Builder, d *diff.Result, blocks []*block, keep map[*block]bool) (cutNames []string) {
	for ci, cd := range d.Clusters {
		if cd.Action == diff.Unchanged {
			continue
		}
		fmt.Fprintf(b, "#### `%s` %s\n\n", cd.Path, cd.Action)
		for ki, kd := range cd.Kustomizations {
			if kd.Action == diff.Unchanged {
				continue
			}
			var inner strings.Builder
			shown, total := 0, 0
			for _, bl := range blocks {
				if bl.cluster != ci || bl.ks != ki {
					continue
				}
				total++
				if keep[bl] {
					inner.WriteString(bl.text)
					shown++
				} else {
					cutNames = append(cutNames, firstLineOf(bl.text))
				}
			}
			writeKustomization(b, kd, inner.String(), shown, total)
		}
	}
	return cutNames
}

// writeKustomization writes one Kustomization's section: its summary,
// error, changed HelmReleases and the object diffs shown. One whose
// diffs were all cut, with nothing else to say, is left out: the cut
// note says so and the table counts them.
func writeKustomization(b *strings.Builder, kd *diff.KustomizationDiff, objects string, shown, total int) {
	changedReleases := 0
	for _, rd := range kd.Releases {
		if rd.Action != diff.Unchanged {
			changedReleases++
		}
	}
	if shown == 0 && total > 0 && kd.Error == "" && changedReleases == 0 {
		return
	}
	summary := fmt.Sprintf("Kustomization <code>%s</code> %s", kd.Ref, kd.Action)
	if total > 0 {
		summary += fmt.Sprintf(" — %d object(s)", total)
	}
	if shown < total {
		summary += fmt.Sprintf(", %d not shown", total-shown)
	}
	fmt.Fprintf(b, "<details><summary>%s</summary>\n\n", summary)
	if kd.Error != "" {
		fmt.Fprintf(b, "✗ %s\n\n", mdInline(kd.Error))
	}
	for _, rd := range kd.Releases {
		if rd.Action != diff.Unchanged {
			fmt.Fprintf(b, "- HelmRelease `%s` %s\n", rd.Ref, releaseSummary(rd))
		}
	}
	if changedReleases > 0 {
		b.WriteString("\n")
	}
	b.WriteString(objects)
	b.WriteString("</details>\n\n")
}

// writeCutNote says how many object diffs were cut, where the full diff
// is, and names the cut ones while they fit.
func writeCutNote(b *strings.Builder, cutNames []string, fullDiff string, max int) {
	where := fullDiff
	if where == "" {
		where = "run `slipway diff` locally or read the job log"
	}
	fmt.Fprintf(b, "_✂ %d object diff(s) did not fit in %d bytes and were cut (deletions, CRDs and RBAC are kept first). The full diff: %s._\n", len(cutNames), max, where)
	for _, n := range cutNames {
		line := "- " + n + "\n"
		if b.Len()+len(line) > max-64 {
			b.WriteString("- …\n")
			break
		}
		b.WriteString(line)
	}
}

// objectMarkdown is one object's header and diff block.
func objectMarkdown(od *diff.ObjectDiff) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n", mdInline(objectHeader(od)))
	for _, n := range od.Notes {
		fmt.Fprintf(&b, "_%s_\n", mdInline(n))
	}
	if od.Diff != "" {
		fence := "```"
		for strings.Contains(od.Diff, fence) {
			fence += "`"
		}
		b.WriteString("\n" + fence + "diff\n" + od.Diff)
		if !strings.HasSuffix(od.Diff, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(fence + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// mdInline escapes text for one line of markdown outside code blocks.
func mdInline(s string) string {
	r := strings.NewReplacer("\n", " ", "<", "&lt;", ">", "&gt;", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`")
	return r.Replace(s)
}

func shortRev(r string) string {
	if len(r) == 40 {
		return r[:12]
	}
	return r
}

// errorLines are the build errors as markdown list items: those of this
// change (new in the head, or fixed by it), and those the base already had
// and the head still has, reported once in a block of their own.
func errorLines(d *diff.Result) (changed, still []string) {
	for _, cd := range d.Clusters {
		for _, e := range cd.Errors {
			switch e.Revision {
			case diff.RevisionBoth:
				still = append(still, fmt.Sprintf("- `%s`: %s", cd.Path, mdInline(FindingLine(e.Finding))))
			case diff.RevisionBase:
				changed = append(changed, fmt.Sprintf("- `%s` (fixed by the head): %s", cd.Path, mdInline(FindingLine(e.Finding))))
			default:
				changed = append(changed, fmt.Sprintf("- `%s` (%s): %s", cd.Path, e.Revision, mdInline(FindingLine(e.Finding))))
			}
		}
	}
	return changed, still
}
