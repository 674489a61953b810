package validate

import (
	"fmt"
	"sort"
	"unicode/utf8"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/slipwayhq/slipway/internal/result"
)

// Check is one validation over a cluster path's build.
type Check interface {
	// Name is the check's identifier, as it appears in findings.
	Name() string
	// Run returns the findings about one cluster path.
	Run(cb *result.ClusterBuild) []result.Finding
}

// Options configure validation.
type Options struct {
	// KubernetesVersion is the target version as "1.36"; empty means the
	// newest version the embedded schemas describe.
	KubernetesVersion string
}

// DefaultChecks returns every check slipway runs, configured by opts.
func DefaultChecks(opts Options) ([]Check, error) {
	schema, err := NewSchemaCheck(opts.KubernetesVersion)
	if err != nil {
		return nil, err
	}
	return []Check{
		schema,
		DuplicateCheck{},
		NamespaceCheck{},
		DependsOnCheck{},
		APIServerCheck{},
	}, nil
}

// Run applies the checks to a cluster build, adds their findings to the
// ones the build raised, and sorts them for stable output.
func Run(cb *result.ClusterBuild, checks []Check) {
	for _, c := range checks {
		cb.Findings = append(cb.Findings, c.Run(cb)...)
	}
	Sort(cb.Findings)
}

var severityRank = map[result.Severity]int{result.SeverityError: 0, result.SeverityWarning: 1, result.SeverityInfo: 2}

// Sort orders findings by file, line, severity and message.
func Sort(fs []result.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Origin.File != b.Origin.File {
			return a.Origin.File < b.Origin.File
		}
		if a.Origin.Line != b.Origin.Line {
			return a.Origin.Line < b.Origin.Line
		}
		if severityRank[a.Severity] != severityRank[b.Severity] {
			return severityRank[a.Severity] < severityRank[b.Severity]
		}
		return a.Message < b.Message
	})
}

// item is one object to check: an object of a Kustomization's build, or
// one a HelmRelease of that build renders to (release set).
type item struct {
	kb      *result.KustomizationBuild
	o       result.Object
	release *result.ReleaseBuild
}

// items lists every object of a cluster path that would reach the cluster:
// each Kustomization's objects, then what its HelmReleases render to (the
// chart's CRDs first), so rendered objects get the same checks.
func items(cb *result.ClusterBuild) []item {
	var out []item
	for _, kb := range cb.Kustomizations {
		for _, o := range kb.Objects {
			out = append(out, item{kb: kb, o: o})
		}
		for _, rb := range kb.Releases {
			if rb.Err != nil {
				continue // reported by the build as a "helm" finding
			}
			for _, list := range [][]result.Object{rb.CRDs, rb.Objects} {
				for _, o := range list {
					out = append(out, item{kb: kb, o: o, release: rb})
				}
			}
		}
	}
	return out
}

// finding is a finding about it, at its origin. A rendered object has no
// line of its own: the finding is about the HelmRelease, at its file and
// line, and the message names the rendered object.
func (it item) finding(cb *result.ClusterBuild, sev result.Severity, check, msg string) result.Finding {
	f := finding(cb, it.kb, &it.o, sev, check, msg)
	if it.release != nil {
		hr := result.ObjectID{Group: helmv2.GroupVersion.Group, Kind: helmv2.HelmReleaseKind, Namespace: it.release.Ref.Namespace, Name: it.release.Ref.Name}
		f.Object = &hr
		f.Message = fmt.Sprintf("%s: %s", it.o.ID(), msg)
	}
	return f
}

// where describes an item for another finding ("file:line", or the
// HelmRelease that renders it).
func (it item) where() string {
	w := it.o.Origin.String()
	if it.release != nil {
		w = "HelmRelease " + it.release.Ref.String() + " (" + w + ")"
	}
	if w == "" {
		w = "kustomization " + it.kb.Ref.String()
	}
	return w
}

// maxMessageBytes bounds a finding's message. Some checks quote the value
// at fault (a schema error prints what it got): 3,000 nested maps where a
// string belongs made one 85 KB finding, more than a GitHub comment holds.
const maxMessageBytes = 1024

func finding(cb *result.ClusterBuild, kb *result.KustomizationBuild, o *result.Object, sev result.Severity, check, msg string) result.Finding {
	f := result.Finding{Severity: sev, Check: check, ClusterPath: cb.Path, Message: clipMessage(msg)}
	if kb != nil {
		r := kb.Ref
		f.Kustomization = &r
		f.Origin = kb.Origin
	}
	if o != nil {
		id := o.ID()
		f.Object = &id
		f.Origin = o.Origin
	}
	return f
}

// clipMessage cuts msg to maxMessageBytes on a character boundary and says
// how much was left out.
func clipMessage(msg string) string {
	if len(msg) <= maxMessageBytes {
		return msg
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", msg[:cut], len(msg)-cut)
}
