package report

import (
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/images"
)

// imageChangeText is one image change on one line: "updated nginx:1.26 →
// nginx:1.27 (HelmRelease web/podinfo)".
func imageChangeText(c images.Change) string {
	what := c.Image
	if c.Action == images.Updated {
		what = c.From + " → " + c.To
	}
	return fmt.Sprintf("%s %s (%s %s/%s)", c.Action, what, c.Kind, c.Namespace, c.Name)
}

// ignoredText says what noise a diff ignored; "" when none.
func ignoredText(ig *diff.Ignored) string {
	if ig == nil {
		return ""
	}
	var parts []string
	if len(ig.StripLabels) > 0 {
		parts = append(parts, "labels "+strings.Join(ig.StripLabels, ", "))
	}
	if len(ig.StripAnnotations) > 0 {
		parts = append(parts, "annotations "+strings.Join(ig.StripAnnotations, ", "))
	}
	if len(ig.SkipKinds) > 0 {
		parts = append(parts, fmt.Sprintf("kinds %s (%d object(s) not compared)", strings.Join(ig.SkipKinds, ", "), ig.Skipped))
	}
	if len(parts) == 0 {
		return ""
	}
	return "ignored: " + strings.Join(parts, "; ")
}

// imagesMarkdown is the image changes section of a diff comment: a table
// per cluster path, shown before anything else, as image bumps are what
// most pull requests of a fleet are; "" when no image changes.
func imagesMarkdown(d *diff.Result, room int) string {
	var b strings.Builder
	n := 0
	for _, cd := range d.Clusters {
		if len(cd.ImageChanges) == 0 {
			continue
		}
		if n == 0 {
			b.WriteString("#### Image changes\n\n| cluster path | unit | change | image |\n|---|---|---|---|\n")
		}
		for i, c := range cd.ImageChanges {
			what := "`" + mdCode(c.Image) + "`"
			if c.Action == images.Updated {
				what = "`" + mdCode(c.From) + "` → `" + mdCode(c.To) + "`"
			}
			line := fmt.Sprintf("| `%s` | %s `%s/%s` | %s | %s |\n", cd.Path, c.Kind, c.Namespace, c.Name, c.Action, what)
			if b.Len()+len(line) > room {
				fmt.Fprintf(&b, "| `%s` | … | %d more | |\n", cd.Path, len(cd.ImageChanges)-i)
				break
			}
			b.WriteString(line)
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return b.String() + "\n"
}

// mdCode keeps text inside a table's code span: no pipes, no backticks.
func mdCode(s string) string {
	return strings.NewReplacer("|", "\\|", "`", "'").Replace(s)
}
