package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/result"
)

// The page's only style and script, inlined and allowed by their hashes in
// the Content-Security-Policy: a report opened from an artifact must load
// nothing from anywhere, and content from the repository that slipped
// through as markup could run nothing.
var (
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string
	//go:embed html/report.tmpl
	htmlTemplate string
)

// HTMLOptions say what one HTML report shows: a diff, findings, or both
// (the action's report of a pull request).
type HTMLOptions struct {
	// Title heads the page; "" gives "slipway diff" or "slipway validate".
	Title string
	// Diff is the diff to show, nil for none.
	Diff *diff.Result
	// Builds are the validated cluster paths whose findings to show, nil
	// for none.
	Builds []*result.ClusterBuild
	// Masker masks secret values in every text shown (the builds' own
	// sensitive values are always masked); nil masks only those.
	Masker *Masker
}

// HTML writes one self-contained HTML page: a summary, then a collapsible
// section per cluster path and per Kustomization or HelmRelease, with the
// findings and the coloured unified diffs. It needs no JavaScript (a
// script only adds expand/collapse-all buttons) and requests nothing: its
// Content-Security-Policy forbids every load but its own inline style and
// script. All repository content is escaped by html/template.
func HTML(w io.Writer, opts HTMLOptions) error {
	page := newHTMLPage(opts)
	t, err := template.New("report").Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("parsing the HTML report template: %w", err)
	}
	if err := t.Execute(w, page); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

// HTMLContentSecurityPolicy is the policy the page declares: nothing may
// load, only the page's own style and script (by hash) apply.
func HTMLContentSecurityPolicy() string {
	return "default-src 'none'; style-src '" + cspHash(htmlCSS) + "'; script-src '" + cspHash(htmlJS) +
		"'; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// htmlPage is the view model the template renders. Sections are
// data-driven: a new kind of content (image changes, say) is one more
// htmlSection or one more field of htmlUnit, not new markup logic.
type htmlPage struct {
	Title, Subtitle string
	CSP             string
	CSS             template.CSS
	JS              template.JS
	// Stats are the figures at the top of the page.
	Stats []htmlStat
	// Sections come first: summary tables, deletions, build errors.
	Sections []*htmlSection
	// Groups are lists of cluster paths: the changes, the drift.
	Groups []*htmlGroup
}

type htmlStat struct {
	Label string
	Value int
	Tone  string
}

// htmlSection is a titled block of the summary: a table, a list of lines
// or a list of findings.
type htmlSection struct {
	ID, Title, Tone string
	Intro           string
	Table           *htmlTable
	Items           []string
	Findings        []htmlFinding
}

type htmlTable struct {
	Header []string
	Rows   [][]htmlCell
}

type htmlCell struct {
	Text, Tone string
	Code, Num  bool
}

type htmlGroup struct {
	ID, Title string
	Clusters  []*htmlCluster
}

// htmlCluster is one cluster path: its own findings, then its
// Kustomizations.
type htmlCluster struct {
	Path, Status, Tone, Counts string
	Open                       bool
	Findings                   []htmlFinding
	Units                      []*htmlUnit
	byKey                      map[string]*htmlUnit
}

// htmlUnit is a Kustomization or a HelmRelease (nested in its
// Kustomization's Units).
type htmlUnit struct {
	Kind, Name, Status, Tone, Origin, Counts string
	Open                                     bool
	Error                                    string
	Notes                                    []string
	Findings                                 []htmlFinding
	Objects                                  []htmlObject
	Units                                    []*htmlUnit
}

type htmlObject struct {
	Title, Status, Tone, Origin string
	Notes                       []string
	Lines                       []htmlLine
}

type htmlLine struct{ Class, Text string }

type htmlFinding struct {
	Severity, Mark, Origin, Check, Subject, Message, Tag string
}

// Tones map an outcome to a colour of the stylesheet.
const (
	toneOK    = "ok"
	toneAdd   = "add"
	toneDel   = "del"
	toneWarn  = "warn"
	toneError = "error"
	toneMuted = "muted"
)

func actionTone(a diff.Action) string {
	switch a {
	case diff.Added:
		return toneAdd
	case diff.Removed:
		return toneDel
	case diff.Changed, diff.Moved:
		return toneWarn
	case diff.Failed:
		return toneError
	}
	return toneMuted
}

// pageBuilder turns the result model into the view model, masking every
// string on the way.
type pageBuilder struct {
	mask   func(string) string
	page   *htmlPage
	byPath map[string]*htmlCluster
}

func newHTMLPage(opts HTMLOptions) *htmlPage {
	own := MaskerFor(opts.Builds)
	pb := &pageBuilder{
		mask:   func(s string) string { return own.Mask(opts.Masker.Mask(s)) },
		page:   &htmlPage{CSP: HTMLContentSecurityPolicy(), CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS)},
		byPath: map[string]*htmlCluster{},
	}
	title := opts.Title
	switch {
	case title != "":
	case opts.Diff != nil:
		title = "slipway diff"
	default:
		title = "slipway validate"
	}
	pb.page.Title = pb.mask(title)
	changes := &htmlGroup{ID: "clusters", Title: "Cluster paths"}
	pb.page.Groups = append(pb.page.Groups, changes)
	if opts.Diff != nil {
		pb.addDiff(opts.Diff, changes)
	}
	if len(opts.Builds) > 0 {
		pb.addFindings(opts.Builds, changes, opts.Diff != nil)
	}
	if opts.Diff != nil && len(opts.Diff.Drift) > 0 {
		pb.addDrift(opts.Diff)
	}
	return pb.page
}

// cluster returns the section of a path in group g, made on first use.
func (pb *pageBuilder) cluster(g *htmlGroup, path string) *htmlCluster {
	key := g.ID + "\x00" + path
	if c, ok := pb.byPath[key]; ok {
		return c
	}
	c := &htmlCluster{Path: pb.mask(path), Status: "unchanged", Tone: toneMuted, byKey: map[string]*htmlUnit{}}
	pb.byPath[key] = c
	g.Clusters = append(g.Clusters, c)
	return c
}

// unit returns the Kustomization (or, with release set, the HelmRelease
// in it) of a cluster section, made on first use.
func (pb *pageBuilder) unit(c *htmlCluster, ks result.KustomizationRef, release *result.KustomizationRef) *htmlUnit {
	key := "K" + ks.String()
	u, ok := c.byKey[key]
	if !ok {
		u = &htmlUnit{Kind: "Kustomization", Name: pb.mask(ks.String()), Status: "unchanged", Tone: toneMuted}
		c.byKey[key] = u
		c.Units = append(c.Units, u)
	}
	if release == nil {
		return u
	}
	rkey := key + "\x00H" + release.String()
	r, ok := c.byKey[rkey]
	if !ok {
		r = &htmlUnit{Kind: "HelmRelease", Name: pb.mask(release.String()), Status: "unchanged", Tone: toneMuted}
		c.byKey[rkey] = r
		u.Units = append(u.Units, r)
	}
	return r
}

func (pb *pageBuilder) finding(f result.Finding, tag string) htmlFinding {
	subject := ""
	switch {
	case f.Object != nil:
		subject = f.Object.String()
	case f.Kustomization != nil:
		subject = "Kustomization/" + f.Kustomization.String()
	}
	return htmlFinding{
		Severity: string(f.Severity), Mark: severityMark[f.Severity], Origin: pb.mask(f.Origin.String()),
		Check: pb.mask(f.Check), Subject: pb.mask(subject), Message: pb.mask(f.Message), Tag: tag,
	}
}

func (pb *pageBuilder) object(od *diff.ObjectDiff) htmlObject {
	title := objectHeader(od)
	if o := od.Origin.String(); o != "" {
		title = strings.TrimSuffix(title, " ("+o+")")
	}
	o := htmlObject{Title: pb.mask(title), Status: string(od.Action), Tone: actionTone(od.Action), Origin: pb.mask(od.Origin.String())}
	for _, n := range od.Notes {
		o.Notes = append(o.Notes, pb.mask(n))
	}
	o.Lines = diffLines(pb.mask(od.Diff))
	return o
}

// diffLines classes each line of a unified diff for colouring.
func diffLines(d string) []htmlLine {
	var out []htmlLine
	for _, line := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		if line == "" && d == "" {
			break
		}
		class := "ctx"
		switch {
		case strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---"):
			class = "meta"
		case strings.HasPrefix(line, "+"):
			class = "add"
		case strings.HasPrefix(line, "-"):
			class = "del"
		case strings.HasPrefix(line, "@@"):
			class = "hunk"
		}
		out = append(out, htmlLine{Class: class, Text: line})
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
