package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
)

// DiffTextOptions tune DiffText.
type DiffTextOptions struct {
	// Color adds ANSI colours; set it only when writing to a terminal.
	Color bool
}

// ANSI colours of the text diff.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

type painter bool

func (p painter) paint(color, s string) string {
	if !p || s == "" {
		return s
	}
	return color + s + ansiReset
}

// DiffText writes a diff the way the Flux CLI prints one: a "► " header
// per cluster path and per object (then its unified diff), and a "• "
// line per Kustomization or HelmRelease the objects belong to.
func DiffText(w io.Writer, d *diff.Result, opts DiffTextOptions) error {
	p := painter(opts.Color)
	var b strings.Builder
	for _, cd := range d.Clusters {
		if cd.Action == diff.Unchanged && len(cd.Errors) == 0 {
			fmt.Fprintf(&b, "✔ %s unchanged\n", cd.Path)
			continue
		}
		fmt.Fprintf(&b, "%s\n", p.paint(ansiBold, fmt.Sprintf("► %s %s (%s)", cd.Path, cd.Action, countsText(cd.Counts))))
		for _, c := range cd.ImageChanges {
			fmt.Fprintf(&b, "  image %s\n", imageChangeText(c))
		}
		for _, e := range cd.Errors {
			fmt.Fprintf(&b, "  %s: %s\n", e.Revision, p.paint(ansiRed, FindingLine(e.Finding)))
		}
		for _, kd := range cd.Kustomizations {
			if kd.Action == diff.Unchanged {
				continue
			}
			fmt.Fprintf(&b, "%s\n", p.paint(ansiBold, fmt.Sprintf("• Kustomization %s %s", kd.Ref, kd.Action)))
			if kd.Error != "" {
				fmt.Fprintf(&b, "  %s\n", p.paint(ansiRed, oneLine(kd.Error)))
			}
			for _, od := range kd.Objects {
				writeObjectText(&b, p, od)
			}
			for _, rd := range kd.Releases {
				if rd.Action == diff.Unchanged {
					continue
				}
				fmt.Fprintf(&b, "%s\n", p.paint(ansiBold, "• HelmRelease "+rd.Ref.String()+" "+releaseSummary(rd)))
				if rd.Error != "" {
					fmt.Fprintf(&b, "  %s\n", p.paint(ansiRed, oneLine(rd.Error)))
				}
				for _, od := range rd.Objects {
					writeObjectText(&b, p, od)
				}
			}
		}
	}
	writeDriftText(&b, p, d)
	if s := ignoredText(d.Ignored); s != "" {
		fmt.Fprintf(&b, "(%s)\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDriftText lists the objects changed in the cluster by hand, from
// what the base revision applied to what is live.
func writeDriftText(b *strings.Builder, p painter, d *diff.Result) {
	for _, cd := range d.Drift {
		fmt.Fprintf(b, "%s\n", p.paint(ansiBold, fmt.Sprintf("► drift in %s: the cluster differs from what %s applied (%s)", cd.Path, shortRev(d.DriftBase), countsText(cd.Counts))))
		for _, e := range cd.Errors {
			fmt.Fprintf(b, "  %s: %s\n", e.Revision, p.paint(ansiRed, FindingLine(e.Finding)))
		}
		for _, kd := range cd.Kustomizations {
			for _, od := range kd.Objects {
				writeObjectText(b, p, od)
			}
		}
	}
}

func writeObjectText(b *strings.Builder, p painter, od *diff.ObjectDiff) {
	fmt.Fprintf(b, "► %s\n", objectHeader(od))
	for _, n := range od.Notes {
		fmt.Fprintf(b, "  (%s)\n", n)
	}
	for _, line := range strings.SplitAfter(od.Diff, "\n") {
		if line == "" {
			continue
		}
		switch {
		case strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---"):
			b.WriteString(p.paint(ansiBold, strings.TrimSuffix(line, "\n")) + "\n")
		case strings.HasPrefix(line, "+"):
			b.WriteString(p.paint(ansiGreen, strings.TrimSuffix(line, "\n")) + "\n")
		case strings.HasPrefix(line, "-"):
			b.WriteString(p.paint(ansiRed, strings.TrimSuffix(line, "\n")) + "\n")
		case strings.HasPrefix(line, "@@"):
			b.WriteString(p.paint(ansiCyan, strings.TrimSuffix(line, "\n")) + "\n")
		default:
			b.WriteString(line)
		}
	}
}

// objectHeader is "Kind/ns/name changed (file:line)" with what a diff
// cannot show: moves and Secret keys.
func objectHeader(od *diff.ObjectDiff) string {
	s := od.ID.String() + " " + string(od.Action)
	if od.Kept != "" {
		s += " (left in the cluster, no longer managed: " + od.Kept + ")"
	}
	if od.From != "" {
		s += " from " + od.From
		if od.Diff != "" {
			s += " and changed"
		}
	}
	if k := od.SecretKeys; !k.Empty() {
		var parts []string
		if len(k.Added) > 0 {
			parts = append(parts, "added "+strings.Join(k.Added, ", "))
		}
		if len(k.Changed) > 0 {
			parts = append(parts, "changed "+strings.Join(k.Changed, ", "))
		}
		if len(k.Removed) > 0 {
			parts = append(parts, "removed "+strings.Join(k.Removed, ", "))
		}
		s += ": keys " + strings.Join(parts, "; ")
	}
	if o := od.Origin.String(); o != "" {
		s += " (" + o + ")"
	}
	return s
}

func releaseSummary(rd *diff.ReleaseDiff) string {
	s := string(rd.Action)
	var parts []string
	if rd.ChartFrom != nil && rd.ChartTo != nil {
		parts = append(parts, "chart "+chartText(*rd.ChartFrom)+" → "+chartText(*rd.ChartTo))
	}
	if rd.ValuesChanged {
		parts = append(parts, "values changed")
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func chartText(c result.ChartRef) string {
	if c.Version == "" {
		return c.Name
	}
	return c.Name + "@" + c.Version
}

func countsText(c diff.Counts) string {
	s := fmt.Sprintf("%d added, %d changed, %d removed", c.Added, c.Changed, c.Removed)
	if c.Moved > 0 {
		s += fmt.Sprintf(", %d moved", c.Moved)
	}
	return s
}

// DiffJSON writes the diff result model as indented JSON.
func DiffJSON(w io.Writer, d *diff.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
