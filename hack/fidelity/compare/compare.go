package compare

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/internal/redact"
)

// ID identifies an object the way the API server does.
type ID struct {
	APIVersion, Kind, Namespace, Name string
}

func (id ID) String() string {
	return fmt.Sprintf("%s/%s/%s/%s", id.APIVersion, id.Kind, id.Namespace, id.Name)
}

// Object is one built object.
type Object struct {
	ID   ID
	Body map[string]any
	// Rendered marks an object slipway rendered from a HelmRelease.
	Rendered bool
	// GeneratedBy names the ResourceSet slipway rendered the object from
	// (Flux Operator applies those; the Flux CLI prints the ResourceSet).
	GeneratedBy string
}

// NewObject identifies body.
func NewObject(body map[string]any) Object {
	md, _ := body["metadata"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	return Object{Body: body, ID: ID{
		APIVersion: str(body, "apiVersion"), Kind: str(body, "kind"),
		Namespace: str(md, "namespace"), Name: str(md, "name"),
	}}
}

// Reason names why a difference between the Flux CLI and slipway is
// expected. Every explained difference has one; there is no blanket skip.
type Reason string

// The differences the harness knows are not slipway bugs.
const (
	// ReasonSecretValues: slipway redacts every Secret value in its
	// output; the Flux CLI masks only SOPS-encrypted ones.
	ReasonSecretValues Reason = "secret-values-redacted"
	// ReasonSOPSLeftEncrypted: without a key, slipway prints a SOPS
	// Secret as committed, metadata included; the Flux CLI strips the
	// sops metadata when it masks the values (the controller would
	// decrypt it).
	ReasonSOPSLeftEncrypted Reason = "sops-secret-left-encrypted"
	// ReasonSecretVariables: `flux build --dry-run` skips
	// postBuild.substituteFrom. The harness hands Flux the ConfigMaps'
	// variables inline, but a Secret's values are redacted in slipway's
	// output, so variables taken from Secrets stay unresolved on Flux's side
	// (or blanked, when inline variables make it substitute at all); when
	// the Secret is SOPS-encrypted and no key is given, slipway leaves the
	// expressions over its keys as written.
	ReasonSecretVariables Reason = "dry-run-skips-substituteFrom-secret"
	// ReasonURLCredentials: slipway redacts the password of every URL
	// it prints (scheme://user:PASSWORD@host), wherever it appears; a
	// value Flux shows differs by exactly that.
	ReasonURLCredentials Reason = "url-credentials-redacted"
	// ReasonHelmRendered: the Flux CLI does not render HelmReleases;
	// slipway prints what helm-controller would install.
	ReasonHelmRendered Reason = "helm-release-rendered-by-slipway"
	// ReasonResourceSetRendered: the Flux CLI knows nothing of Flux
	// Operator's ResourceSets; slipway prints what the operator would
	// apply from one.
	ReasonResourceSetRendered Reason = "resourceset-rendered-by-slipway"
	// ReasonCLINullLabels: an object written with an empty `labels:`
	// (null) gets no owner labels from the Flux CLI (kyaml's SetLabel
	// does not replace a null node), while kustomize-controller sets
	// them on the decoded object (ssa SetOwnerLabels), as slipway does.
	ReasonCLINullLabels Reason = "cli-skips-owner-labels-on-null-labels"
)

// ownerLabelKeys are the labels kustomize-controller puts on every object.
var ownerLabelKeys = []string{"kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"}

// Pair is one object both tools built that differs.
type Pair struct {
	Flux, Slipway Object
	// Fields lists the differing field paths, with values unless the
	// object is a Secret.
	Fields []string
}

// Item is one difference: a differing pair, or an object only one tool
// built.
type Item struct {
	Outcome Outcome
	ID      ID
	Pair    *Pair
	Reason  Reason // "" when unexplained
}

// Outcome says what kind of difference an Item is.
type Outcome string

// Outcomes of a comparison.
const (
	Differs      Outcome = "differs"
	Missing      Outcome = "missing" // built by Flux, not by slipway
	Extra        Outcome = "extra"   // built by slipway, not by Flux
	SlipwayFails Outcome = "slipway-fails"
	FluxFails    Outcome = "flux-fails"
	NotCompared  Outcome = "not-compared" // not a failure: no local source for Flux
)

// Context is what the comparison of one Kustomization needs to know about it.
type Context struct {
	// SecretVariables: the Kustomization takes postBuild variables from
	// a Secret, whose values the harness cannot give the Flux CLI.
	SecretVariables bool
}

// Result is the comparison of one Kustomization's objects.
type Result struct {
	Identical int
	Items     []Item
}

// Compare pairs flux and slipway objects by ID and classifies each
// difference.
func Compare(flux, slipway []Object, c Context) Result {
	var r Result
	byID := map[ID][]int{}
	for i, o := range slipway {
		byID[o.ID] = append(byID[o.ID], i)
	}
	paired := make([]bool, len(slipway))
	var missing []Object
	for _, f := range flux {
		list := byID[f.ID]
		if len(list) == 0 {
			missing = append(missing, f)
			continue
		}
		s := slipway[list[0]]
		paired[list[0]] = true
		byID[f.ID] = list[1:]
		if reflect.DeepEqual(f.Body, s.Body) {
			r.Identical++
			continue
		}
		r.Items = append(r.Items, classifyPair(f, s, c))
	}
	var extra []Object
	for i, o := range slipway {
		if !paired[i] {
			extra = append(extra, o)
		}
	}
	r.Items = append(r.Items, unpaired(missing, extra, c)...)
	sort.SliceStable(r.Items, func(i, j int) bool { return r.Items[i].ID.String() < r.Items[j].ID.String() })
	return r
}

// classifyPair explains a differing pair, or leaves it unexplained.
func classifyPair(f, s Object, c Context) Item {
	it := Item{Outcome: Differs, ID: f.ID, Pair: &Pair{Flux: f, Slipway: s}}
	fb, sb := f.Body, s.Body
	secret := isSecret(f.ID)
	if secret {
		fb, sb = maskSecret(fb), maskSecret(sb)
		if reflect.DeepEqual(fb, sb) {
			it.Reason = ReasonSecretValues
			if _, ok := s.Body["sops"]; ok {
				it.Reason = ReasonSOPSLeftEncrypted
			}
			return it
		}
	}
	leaves := diffLeaves(fb, sb, "")
	it.Pair.Fields = describe(leaves, secret)
	leaves, nullLabels := withoutNullLabels(leaves)
	switch {
	case nullLabels && len(leaves) == 0:
		it.Reason = ReasonCLINullLabels
	case allURLCredentials(leaves):
		it.Reason = ReasonURLCredentials
	case c.SecretVariables && allUnresolvedSecretVariables(leaves):
		it.Reason = ReasonSecretVariables
	}
	return it
}

// withoutNullLabels drops the difference the Flux CLI makes on an object
// whose labels are null: there Flux has null and slipway exactly the owner
// labels. It reports whether it dropped one.
func withoutNullLabels(leaves []leaf) ([]leaf, bool) {
	for i, l := range leaves {
		if l.path != ".metadata.labels" || !l.inFlux || l.flux != nil {
			continue
		}
		m, ok := l.slipway.(map[string]any)
		if !ok || len(m) != len(ownerLabelKeys) {
			continue
		}
		owner := true
		for _, k := range ownerLabelKeys {
			if _, ok := m[k].(string); !ok {
				owner = false
			}
		}
		if owner {
			return append(leaves[:i:i], leaves[i+1:]...), true
		}
	}
	return leaves, false
}

// unpaired classifies objects only one tool built. With variables from
// a Secret, an object Flux names with an unresolved ${VAR} is paired with
// the one slipway named from the variable's value.
func unpaired(missing, extra []Object, c Context) []Item {
	var out []Item
	used := make([]bool, len(extra))
	for _, f := range missing {
		it := Item{Outcome: Missing, ID: f.ID}
		if c.SecretVariables {
			if re := variablePattern(f.ID.String()); re != nil {
				for i, s := range extra {
					if !used[i] && re.MatchString(s.ID.String()) {
						used[i] = true
						p := classifyPair(f, s, c)
						p.Reason = ReasonSecretVariables
						it = p
						break
					}
				}
			}
		}
		out = append(out, it)
	}
	for i, s := range extra {
		if used[i] {
			continue
		}
		it := Item{Outcome: Extra, ID: s.ID}
		switch {
		case s.Rendered:
			it.Reason = ReasonHelmRendered
		case s.GeneratedBy != "":
			it.Reason = ReasonResourceSetRendered
		}
		out = append(out, it)
	}
	return out
}

var varExpr = regexp.MustCompile(`\$\{[^}]*\}`)

// variablePattern turns a string holding ${...} expressions into a
// pattern any substitution of them matches; nil when it holds none.
func variablePattern(s string) *regexp.Regexp {
	locs := varExpr.FindAllStringIndex(s, -1)
	if locs == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, l := range locs {
		b.WriteString(regexp.QuoteMeta(s[last:l[0]]))
		b.WriteString(".*")
		last = l[1]
	}
	b.WriteString(regexp.QuoteMeta(s[last:]) + "$")
	return regexp.MustCompile(b.String())
}

func isSecret(id ID) bool { return id.Kind == "Secret" && id.APIVersion == "v1" }

// maskSecret replaces a Secret's values, which both tools mask in their
// own way (Flux: SOPS-encrypted values only; slipway: all of them), and
// drops its SOPS metadata.
func maskSecret(body map[string]any) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		if k != "sops" {
			out[k] = v
		}
	}
	for _, field := range []string{"data", "stringData"} {
		m, ok := body[field].(map[string]any)
		if !ok {
			continue
		}
		masked := make(map[string]any, len(m))
		for k := range m {
			masked[k] = "*"
		}
		out[field] = masked
	}
	return out
}

// leaf is one differing value; absent values are nil with present false.
type leaf struct {
	path              string
	flux, slipway     any
	inFlux, inSlipway bool
}

// diffLeaves lists where a and b differ, descending into maps and into
// lists of equal length.
func diffLeaves(a, b any, path string) []leaf {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		var out []leaf
		for _, k := range sortedKeys(keys) {
			x, inA := av[k]
			y, inB := bv[k]
			switch {
			case inA && inB:
				out = append(out, diffLeaves(x, y, path+"."+k)...)
			default:
				out = append(out, leaf{path: path + "." + k, flux: x, slipway: y, inFlux: inA, inSlipway: inB})
			}
		}
		return out
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		var out []leaf
		for i := range av {
			out = append(out, diffLeaves(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []leaf{{path: path, flux: a, slipway: b, inFlux: true, inSlipway: true}}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// redactedMark is what slipway's output shows in place of a Secret's
// value, wherever it surfaces.
const redactedMark = "**redacted**"

// allUnresolvedSecretVariables: every difference is a ${VAR} one tool
// left as written, or a value slipway substituted from a Secret (and so
// redacted) where Flux blanked it.
func allUnresolvedSecretVariables(leaves []leaf) bool {
	if len(leaves) == 0 {
		return false
	}
	for _, l := range leaves {
		fs, _ := l.flux.(string)
		ss := fmt.Sprint(l.slipway)
		if !strings.Contains(fs, "${") && !strings.Contains(ss, "${") && !strings.Contains(ss, redactedMark) {
			return false
		}
	}
	return true
}

// allURLCredentials: every difference is a string that slipway's URL
// redaction turns from Flux's value into slipway's.
func allURLCredentials(leaves []leaf) bool {
	if len(leaves) == 0 {
		return false
	}
	for _, l := range leaves {
		fs, ok1 := l.flux.(string)
		ss, ok2 := l.slipway.(string)
		if !ok1 || !ok2 || redact.URLs(fs) != ss {
			return false
		}
	}
	return true
}

// maxFields bounds the fields described per pair.
const maxFields = 5

func describe(leaves []leaf, secret bool) []string {
	var out []string
	for i, l := range leaves {
		if i == maxFields {
			out = append(out, fmt.Sprintf("… %d more", len(leaves)-maxFields))
			break
		}
		switch {
		case secret:
			out = append(out, l.path)
		case !l.inSlipway:
			out = append(out, fmt.Sprintf("%s: only Flux has %s", l.path, short(l.flux)))
		case !l.inFlux:
			out = append(out, fmt.Sprintf("%s: only slipway has %s", l.path, short(l.slipway)))
		default:
			f, s := around(l.flux, l.slipway)
			out = append(out, fmt.Sprintf("%s: Flux %s, slipway %s", l.path, f, s))
		}
	}
	return out
}

// around quotes two values; of two long strings, the part around where
// they first differ.
func around(a, b any) (string, string) {
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if !ok1 || !ok2 || (len(as) <= maxValue && len(bs) <= maxValue) {
		return short(a), short(b)
	}
	i := 0
	for i < len(as) && i < len(bs) && as[i] == bs[i] {
		i++
	}
	from := max(0, i-maxValue/4)
	cut := func(s string) string {
		if from >= len(s) {
			return fmt.Sprintf("(at byte %d) end", i)
		}
		return fmt.Sprintf("(at byte %d) …%s", i, short(s[from:]))
	}
	return cut(as), cut(bs)
}

// maxValue bounds a value quoted in a field description.
const maxValue = 80

// short quotes a value, URL passwords redacted (Flux prints them).
func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if str, ok := v.(string); ok {
		s = fmt.Sprintf("%q", redact.URLs(str))
	}
	if len(s) > maxValue {
		s = s[:maxValue] + "…"
	}
	return s
}
