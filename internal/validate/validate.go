package validate

import (
	"sort"

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

func finding(cb *result.ClusterBuild, kb *result.KustomizationBuild, o *result.Object, sev result.Severity, check, msg string) result.Finding {
	f := result.Finding{Severity: sev, Check: check, ClusterPath: cb.Path, Message: msg}
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
