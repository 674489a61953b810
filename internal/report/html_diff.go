package report

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/slipwayhq/slipway/internal/diff"
)

// addDiff adds a diff's figures, its summary sections (the counts table,
// deletions, build errors) and a section per changed cluster path.
func (pb *pageBuilder) addDiff(d *diff.Result, g *htmlGroup) {
	head := d.Head
	if head == "" {
		head = "worktree"
	}
	pb.page.Subtitle = pb.mask(shortRevs(d.Base) + " → " + shortRevs(head))
	var total diff.Counts
	changed := 0
	table := &htmlTable{Header: []string{"cluster path", "status", "added", "changed", "removed", "moved"}}
	for _, cd := range d.Clusters {
		total.Added += cd.Counts.Added
		total.Changed += cd.Counts.Changed
		total.Removed += cd.Counts.Removed
		total.Moved += cd.Counts.Moved
		if cd.Action != diff.Unchanged {
			changed++
		}
		table.Rows = append(table.Rows, []htmlCell{
			{Text: pb.mask(cd.Path), Code: true}, {Text: string(cd.Action), Tone: actionTone(cd.Action)},
			num(cd.Counts.Added), num(cd.Counts.Changed), num(cd.Counts.Removed), num(cd.Counts.Moved),
		})
	}
	pb.page.Stats = append(pb.page.Stats,
		htmlStat{Label: "cluster paths changed", Value: changed, Tone: toneWarn},
		htmlStat{Label: "objects added", Value: total.Added, Tone: toneAdd},
		htmlStat{Label: "objects changed", Value: total.Changed, Tone: toneWarn},
		htmlStat{Label: "objects removed", Value: total.Removed, Tone: toneDel},
	)
	if total.Moved > 0 {
		pb.page.Stats = append(pb.page.Stats, htmlStat{Label: "objects moved", Value: total.Moved, Tone: toneWarn})
	}
	// Image changes first, as in the pull-request comment: the change a
	// reviewer looks for most, and what a pre-pull job acts on.
	if ic := d.ImageChanges(); len(ic) > 0 {
		pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "images", Title: "Image changes", Tone: toneWarn, Table: pb.imageTable(ic)})
	}
	pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "summary", Title: "Changes per cluster path", Table: table})
	pb.addDiffNotices(d)
	for _, cd := range d.Clusters {
		if cd.Action == diff.Unchanged && len(cd.Kustomizations) == 0 {
			continue
		}
		pb.addClusterDiff(g, cd)
	}
}

// imageTable lists image changes: where, which unit, what, which image.
func (pb *pageBuilder) imageTable(changes []diff.ImageChange) *htmlTable {
	t := &htmlTable{Header: []string{"cluster path", "unit", "change", "image"}}
	for _, c := range changes {
		image := c.Image
		if c.Action == "updated" {
			image = c.From + " → " + c.To
		}
		tone := toneWarn
		switch c.Action {
		case "added":
			tone = toneAdd
		case "removed":
			tone = toneDel
		}
		t.Rows = append(t.Rows, []htmlCell{
			{Text: pb.mask(c.Path), Code: true},
			{Text: pb.mask(c.Kind + " " + c.Namespace + "/" + c.Name)},
			{Text: c.Action, Tone: tone},
			{Text: pb.mask(image), Code: true},
		})
	}
	return t
}

// fullSHA is a commit id inside a revision expression ("<sha>^1").
var fullSHA = regexp.MustCompile(`\b[0-9a-f]{40}\b`)

// shortRevs shortens every full commit id in a revision expression.
func shortRevs(rev string) string {
	return fullSHA.ReplaceAllStringFunc(rev, func(s string) string { return s[:12] })
}

func num(n int) htmlCell { return htmlCell{Text: fmt.Sprint(n), Num: true} }

// addDiffNotices lists, before any diff, what a reviewer must not miss:
// deletions, objects left unmanaged, and build errors (those of this
// change apart from those the base already had).
func (pb *pageBuilder) addDiffNotices(d *diff.Result) {
	var deletions, kept []string
	for _, cd := range d.Clusters {
		if cd.Action == diff.Removed {
			deletions = append(deletions, "cluster path "+cd.Path+" removed")
		}
		for _, kd := range cd.Kustomizations {
			if kd.Action == diff.Removed {
				deletions = append(deletions, cd.Path+": Kustomization "+kd.Ref.String()+" removed")
			}
			objs := append([]*diff.ObjectDiff(nil), kd.Objects...)
			for _, rd := range kd.Releases {
				if rd.Action == diff.Removed {
					deletions = append(deletions, cd.Path+": HelmRelease "+rd.Ref.String()+" removed")
				}
				objs = append(objs, rd.Objects...)
			}
			for _, od := range objs {
				switch {
				case od.Action == diff.Removed && od.Kept != "":
					kept = append(kept, cd.Path+": "+od.ID.String()+" (Kustomization "+kd.Ref.String()+"; "+od.Kept+")")
				case od.Action == diff.Removed:
					deletions = append(deletions, cd.Path+": "+od.ID.String()+" (Kustomization "+kd.Ref.String()+")")
				}
			}
		}
	}
	if len(deletions) > 0 {
		pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "deletions", Title: "Deletions", Tone: toneDel,
			Intro: "These objects would be deleted (when the Kustomization prunes):", Items: pb.maskAll(deletions)})
	}
	if len(kept) > 0 {
		pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "kept", Title: "Left in the cluster, no longer managed", Tone: toneWarn,
			Intro: "Removed from the repository, not deleted:", Items: pb.maskAll(kept)})
	}
	var errs, still []htmlFinding
	for _, cd := range d.Clusters {
		for _, e := range cd.Errors {
			f := pb.finding(e.Finding, cd.Path)
			switch e.Revision {
			case diff.RevisionBoth:
				still = append(still, f)
			case diff.RevisionBase:
				f.Tag += " (fixed by the head)"
				errs = append(errs, f)
			default:
				f.Tag += " (" + e.Revision + ")"
				errs = append(errs, f)
			}
		}
	}
	if len(errs) > 0 {
		pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "errors", Title: "Build errors", Tone: toneError, Findings: errs})
	}
	if len(still) > 0 {
		pb.page.Sections = append(pb.page.Sections, &htmlSection{ID: "still-failing", Title: "Already failing on the base", Tone: toneMuted,
			Intro: "Not this change's doing:", Findings: still})
	}
}

func (pb *pageBuilder) maskAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = pb.mask(s)
	}
	return out
}

// addClusterDiff adds a cluster path's changed Kustomizations and
// HelmReleases with their object diffs.
func (pb *pageBuilder) addClusterDiff(g *htmlGroup, cd *diff.ClusterDiff) {
	c := pb.cluster(g, cd.Path)
	c.Status, c.Tone, c.Counts, c.Open = string(cd.Action), actionTone(cd.Action), countsText(cd.Counts), cd.Action != diff.Unchanged
	for _, kd := range cd.Kustomizations {
		if kd.Action == diff.Unchanged && kd.Error == "" {
			continue
		}
		u := pb.unit(c, kd.Ref, nil)
		u.Status, u.Tone, u.Origin, u.Open = string(kd.Action), actionTone(kd.Action), pb.mask(kd.Origin.String()), true
		u.Error = pb.mask(kd.Error)
		n := len(kd.Objects)
		for _, od := range kd.Objects {
			u.Objects = append(u.Objects, pb.object(od))
		}
		for _, rd := range kd.Releases {
			if rd.Action == diff.Unchanged && rd.Error == "" {
				continue
			}
			r := pb.unit(c, kd.Ref, &rd.Ref)
			r.Status, r.Tone, r.Open = string(rd.Action), actionTone(rd.Action), true
			r.Error = pb.mask(rd.Error)
			if s := releaseSummary(rd); s != string(rd.Action) {
				r.Notes = append(r.Notes, pb.mask(strings.TrimPrefix(s, string(rd.Action)+": ")))
			}
			for _, od := range rd.Objects {
				r.Objects = append(r.Objects, pb.object(od))
			}
			r.Counts = plural(len(rd.Objects), "object", "objects")
			n += len(rd.Objects)
		}
		if n > 0 {
			u.Counts = plural(n, "object", "objects")
		}
	}
}

// addDrift adds the objects changed in the cluster by hand, as a group of
// its own after the changes.
func (pb *pageBuilder) addDrift(d *diff.Result) {
	g := &htmlGroup{ID: "drift", Title: "Drift: the cluster differs from what " + pb.mask(shortRev(d.DriftBase)) + " applied"}
	pb.page.Groups = append(pb.page.Groups, g)
	for _, cd := range d.Drift {
		pb.addClusterDiff(g, cd)
		c := pb.cluster(g, cd.Path)
		for _, e := range cd.Errors {
			c.Findings = append(c.Findings, pb.finding(e.Finding, e.Revision))
		}
	}
}
