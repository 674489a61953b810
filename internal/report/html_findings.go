package report

import (
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// addFindings adds the validation figures, a table per cluster path, and
// each finding under the Kustomization (or HelmRelease) it belongs to.
// Next to a diff only Kustomizations with findings are added; alone, every
// Kustomization is listed, so the page shows what was validated.
func (pb *pageBuilder) addFindings(builds []*result.ClusterBuild, g *htmlGroup, withDiff bool) {
	c := Count(builds)
	pb.page.Stats = append(pb.page.Stats,
		htmlStat{Label: "errors", Value: c.Errors, Tone: toneError},
		htmlStat{Label: "warnings", Value: c.Warnings, Tone: toneWarn},
		htmlStat{Label: "info", Value: c.Infos, Tone: toneMuted},
	)
	table := &htmlTable{Header: []string{"cluster path", "result", "Kustomizations", "objects", "errors", "warnings", "info"}}
	for _, cb := range builds {
		cc := Count([]*result.ClusterBuild{cb})
		objects := 0
		for _, kb := range cb.Kustomizations {
			objects += len(kb.Objects)
		}
		status, tone := "valid", toneOK
		if cc.Errors > 0 {
			status, tone = "failed", toneError
		}
		table.Rows = append(table.Rows, []htmlCell{
			{Text: pb.mask(cb.Path), Code: true}, {Text: status, Tone: tone},
			num(len(cb.Kustomizations)), num(objects), num(cc.Errors), num(cc.Warnings), num(cc.Infos),
		})
		pb.addClusterFindings(g, cb, withDiff)
	}
	pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "validation", Title: "Validation per cluster path", Table: table})
}

func (pb *pageBuilder) addClusterFindings(g *htmlGroup, cb *result.ClusterBuild, withDiff bool) {
	cc := Count([]*result.ClusterBuild{cb})
	if withDiff && len(cb.Findings) == 0 {
		return
	}
	c := pb.cluster(g, cb.Path)
	if !withDiff {
		c.Status, c.Tone = "valid", toneOK
		for _, kb := range cb.Kustomizations {
			u := pb.unit(c, kb.Ref, nil)
			u.Status, u.Tone, u.Origin = "valid", toneOK, pb.mask(kb.Origin.String())
			u.Counts = plural(len(kb.Objects), "object", "objects")
			if kb.Suspended {
				u.Status, u.Tone = "suspended", toneMuted
			}
		}
	}
	if cc.Errors > 0 {
		c.Status, c.Tone, c.Open = "failed", toneError, true
	}
	c.Counts = joinNonEmpty(c.Counts, findingCounts(cc))
	owners := releaseOwners(cb)
	for _, f := range cb.Findings {
		hf := pb.finding(f, "")
		if f.Kustomization == nil {
			c.Findings = append(c.Findings, hf)
			continue
		}
		var rel *result.KustomizationRef
		if f.Object != nil {
			if r, ok := owners[*f.Object]; ok {
				rel = &r
			}
		}
		u := pb.unit(c, *f.Kustomization, rel)
		u.Findings = append(u.Findings, hf)
		markFinding(u, f.Severity)
		if rel != nil {
			markFinding(pb.unit(c, *f.Kustomization, nil), f.Severity)
		}
	}
}

// markFinding colours a unit by its worst finding and opens it on errors.
func markFinding(u *htmlUnit, s result.Severity) {
	switch {
	case s == result.SeverityError:
		u.Tone, u.Open = toneError, true
		if u.Status == "valid" || u.Status == "unchanged" {
			u.Status = "failed"
		}
	case s == result.SeverityWarning && u.Tone != toneError:
		u.Tone = toneWarn
	}
}

// releaseOwners maps each rendered object to its HelmRelease.
func releaseOwners(cb *result.ClusterBuild) map[result.ObjectID]result.KustomizationRef {
	out := map[result.ObjectID]result.KustomizationRef{}
	for _, kb := range cb.Kustomizations {
		for _, rb := range kb.Releases {
			for _, o := range rb.Objects {
				out[o.ID()] = rb.Ref
			}
		}
	}
	return out
}

func findingCounts(c Counts) string {
	var parts []string
	if c.Errors > 0 {
		parts = append(parts, plural(c.Errors, "error", "errors"))
	}
	if c.Warnings > 0 {
		parts = append(parts, plural(c.Warnings, "warning", "warnings"))
	}
	if c.Infos > 0 {
		parts = append(parts, plural(c.Infos, "info", "info"))
	}
	return strings.Join(parts, ", ")
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
