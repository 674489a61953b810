package action

import (
	"errors"
	"strings"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// checkSelectionScope refuses the kustomization and helmrelease inputs
// for a run that deploys. A deploy applies a whole cluster path and prunes
// from its inventory: applying a selection of it would delete every
// Kustomization left out, and slipway has no Flux-style per-Kustomization
// apply outside the cluster path's inventory to make a partial deploy safe.
// A live diff still dry-runs the whole path (its prune list is then
// right); the selection narrows validation and the offline diff only.
func checkSelectionScope(sel build.Selection, p *plan) error {
	if sel.Empty() {
		return nil
	}
	if p.deploy {
		return &InputError{Name: "kustomization/helmrelease", Value: selectionText(sel),
			Reason: "a selection narrows what validation and the diff report; a deploy applies and prunes whole cluster paths, so deploying a selection would prune what it leaves out: leave these inputs empty when deploying (for example set them only on pull_request events)"}
	}
	p.notes = append(p.notes, "selection: reporting only "+report.MarkdownEscape(selectionText(sel))+" (everything is still built and validated as a whole).")
	if p.liveDiff {
		p.notes = append(p.notes, "the live diff (server-side dry-run) covers whole cluster paths: the selection does not narrow it.")
	}
	return nil
}

// selectionText names what is selected, as the inputs did.
func selectionText(sel build.Selection) string {
	var parts []string
	add := func(kind string, refs []result.KustomizationRef) {
		for _, r := range refs {
			parts = append(parts, kind+" "+r.String())
		}
	}
	add("Kustomization", sel.Kustomizations)
	add("HelmRelease", sel.HelmReleases)
	return strings.Join(parts, ", ")
}

// selectBuilds restricts each report's build to the selection, as the
// CLI's validate does; the whole build stays in full. A selected name no
// build has is a usage error — unless the offline diff runs, which knows
// both revisions (a Kustomization the change removes is only in the base)
// and reports an unknown name itself.
func (r *run) selectBuilds(p *plan, reports []*pathReport, builds []*result.ClusterBuild) error {
	sel := r.in.Select
	if sel.Empty() {
		return nil
	}
	if !(p.diff && r.offlineDiff(p)) {
		if err := sel.Check(builds); err != nil {
			return unknownSelection(err)
		}
	}
	for _, pr := range reports {
		if pr.full != nil {
			pr.build = sel.Apply([]*result.ClusterBuild{pr.full})[0]
		}
	}
	return nil
}

// offlineDiff reports whether the run can diff two revisions offline.
func (r *run) offlineDiff(p *plan) bool {
	return r.opts.Differ != nil && p.base != "" && p.head != ""
}

// unknownSelection returns err as an input error when it is a selected name
// that does not exist, nil otherwise.
func unknownSelection(err error) error {
	var unknown *build.UnknownSelectionError
	if !errors.As(err, &unknown) {
		return nil
	}
	name := "kustomization"
	if unknown.Kind == "HelmRelease" {
		name = "helmrelease"
	}
	return &InputError{Name: name, Value: unknown.Ref.String(), Reason: unknown.Error()}
}
