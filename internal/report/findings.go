package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// Counts tallies findings by severity.
type Counts struct {
	Errors, Warnings, Infos int
}

// Count tallies the findings of every cluster path.
func Count(builds []*result.ClusterBuild) Counts {
	var c Counts
	for _, cb := range builds {
		for _, f := range cb.Findings {
			switch f.Severity {
			case result.SeverityError:
				c.Errors++
			case result.SeverityWarning:
				c.Warnings++
			default:
				c.Infos++
			}
		}
	}
	return c
}

var severityMark = map[result.Severity]string{
	result.SeverityError:   "✗",
	result.SeverityWarning: "!",
	result.SeverityInfo:    "·",
}

// FindingsText writes one line per finding and a summary per cluster path,
// the way a terminal user reads them.
func FindingsText(w io.Writer, builds []*result.ClusterBuild) error {
	var b strings.Builder
	for _, cb := range builds {
		objects := 0
		for _, kb := range cb.Kustomizations {
			objects += len(kb.Objects)
		}
		c := Count([]*result.ClusterBuild{cb})
		mark := "✔"
		if c.Errors > 0 {
			mark = "✗"
		}
		fmt.Fprintf(&b, "%s %s: %d kustomizations, %d objects, %d errors, %d warnings, %d info (%s)\n",
			mark, cb.Path, len(cb.Kustomizations), objects, c.Errors, c.Warnings, c.Infos, cb.Duration.Round(1e6))
		for _, f := range cb.Findings {
			b.WriteString("  " + FindingLine(f) + "\n")
		}
	}
	_, err := io.WriteString(w, MaskerFor(builds).Mask(b.String()))
	return err
}

// InfoSummary is one line counting a cluster path's info findings by
// check ("· clusters/dev: 3 info (sops 2, substitution 1)"), or "" when
// it has none: what a reader of the objects alone would otherwise miss.
func InfoSummary(cb *result.ClusterBuild) string {
	counts := map[string]int{}
	var checks []string
	total := 0
	for _, f := range cb.Findings {
		if f.Severity != result.SeverityInfo {
			continue
		}
		if counts[f.Check] == 0 {
			checks = append(checks, f.Check)
		}
		counts[f.Check]++
		total++
	}
	if total == 0 {
		return ""
	}
	sort.Strings(checks)
	parts := make([]string, len(checks))
	for i, c := range checks {
		parts[i] = fmt.Sprintf("%s %d", c, counts[c])
	}
	return fmt.Sprintf("%s %s: %d info (%s)", severityMark[result.SeverityInfo], cb.Path, total, strings.Join(parts, ", "))
}

// FindingLine renders a finding as "✗ file:line [check] object: message".
func FindingLine(f result.Finding) string {
	var b strings.Builder
	b.WriteString(severityMark[f.Severity])
	b.WriteString(" ")
	if o := f.Origin.String(); o != "" {
		b.WriteString(o + " ")
	}
	b.WriteString("[" + f.Check + "] ")
	if f.Object != nil {
		b.WriteString(f.Object.String() + ": ")
	} else if f.Kustomization != nil {
		b.WriteString("Kustomization/" + f.Kustomization.String() + ": ")
	}
	b.WriteString(oneLine(f.Message))
	return b.String()
}

// FindingsJSON writes all findings as a JSON document.
func FindingsJSON(w io.Writer, builds []*result.ClusterBuild) error {
	type cluster struct {
		Path     string           `json:"path"`
		Findings []result.Finding `json:"findings"`
	}
	out := struct {
		Errors   int       `json:"errors"`
		Warnings int       `json:"warnings"`
		Clusters []cluster `json:"clusters"`
	}{}
	c := Count(builds)
	out.Errors, out.Warnings = c.Errors, c.Warnings
	for _, cb := range builds {
		out.Clusters = append(out.Clusters, cluster{Path: cb.Path, Findings: nonNil(cb.Findings)})
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, MaskerFor(builds).Mask(string(data))+"\n")
	return err
}
