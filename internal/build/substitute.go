package build

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/envsubst"
	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
)

// substituteDisabled is Flux's per-object opt-out of substitution.
const substituteDisabled = "kustomize.toolkit.fluxcd.io/substitute"

// varSource looks up a ConfigMap or Secret of the cluster path's build
// output; it returns ok=false when no such object was built (yet).
type varSource func(kind, namespace, name string) (obj *unstructured.Unstructured, ok bool)

// varsResult is what substituteFrom resolved to.
type varsResult struct {
	vars map[string]string
	// unknown names the sources that exist but whose values are not
	// readable (SOPS-encrypted, no key).
	unknown []string
	// unknownNames are their keys (SOPS leaves keys in clear) not set by a
	// later source: expressions using them are left exactly as written
	// rather than blanked or reported.
	unknownNames map[string]bool
	// pending names sources not found yet (they may come from a later build).
	pending []string
	// missing names required sources that do not exist at all.
	missing []string
	// sensitive holds the values that came from Secrets.
	sensitive []string
	// lookup is where the sources were looked up, to look again.
	lookup varSource
	// promised are the sources found only as Secrets a controller makes
	// in the cluster (an ExternalSecret's target): their keys join
	// unknownNames; open: one may hold keys nobody can know offline, so
	// every expression left unresolved is kept as written (defaults
	// still apply).
	promised []promise
	open     bool
	// promises is where promised Secrets were looked up, to look again.
	promises promiseLookup
}

// promiseLookup finds a Secret that a controller makes from an object of
// the cluster path (see promised.go).
type promiseLookup func(namespace, name string) (promise, bool)

// loadVars mirrors kustomize-controller's LoadVariables over the build
// output instead of the cluster: substituteFrom in order (later wins), then
// the inline substitute map, newlines stripped as Flux does.
func loadVars(ks *kustomizev1.Kustomization, lookup varSource, final bool) varsResult {
	return loadVarsPromised(ks, lookup, nil, final)
}

// loadVarsPromised is loadVars where a Secret found nowhere else may be one
// a controller makes in the cluster (promises, asked only once final: the
// real Secret, built or external, always wins). Its keys are unknown
// names, as an encrypted Secret's are.
func loadVarsPromised(ks *kustomizev1.Kustomization, lookup varSource, promises promiseLookup, final bool) varsResult {
	res := varsResult{vars: map[string]string{}, unknownNames: map[string]bool{}, lookup: lookup, promises: promises}
	pb := ks.Spec.PostBuild
	for _, ref := range pb.SubstituteFrom {
		obj, ok := lookup(ref.Kind, ks.Namespace, ref.Name)
		if !ok && final && promises != nil && ref.Kind == "Secret" {
			if p, found := promises(ks.Namespace, ref.Name); found {
				res.promise(p)
				continue
			}
		}
		if !ok {
			if ref.Optional {
				continue
			}
			if final {
				res.missing = append(res.missing, ref.Kind+"/"+ks.Namespace+"/"+ref.Name)
			} else {
				res.pending = append(res.pending, ref.Kind+"/"+ks.Namespace+"/"+ref.Name)
			}
			continue
		}
		if IsEncrypted(obj) {
			res.unknown = append(res.unknown, ref.Kind+"/"+ks.Namespace+"/"+ref.Name)
			for _, k := range dataKeys(obj) {
				// Its value, whatever it is, overrides earlier sources.
				delete(res.vars, k)
				res.unknownNames[k] = true
			}
			continue
		}
		for k, v := range kube.DataValues(obj) {
			v = strings.ReplaceAll(v, "\n", "")
			delete(res.unknownNames, k)
			res.vars[k] = v
			if ref.Kind == "Secret" {
				res.sensitive = append(res.sensitive, v)
			}
		}
	}
	for k, v := range pb.Substitute {
		delete(res.unknownNames, k)
		res.vars[k] = strings.ReplaceAll(v, "\n", "")
	}
	return res
}

// promise records a source that exists in the cluster only: the keys it
// holds override earlier sources with values unknown offline.
func (res *varsResult) promise(p promise) {
	res.promised = append(res.promised, p)
	res.open = res.open || p.open
	for _, k := range p.keys {
		delete(res.vars, k)
		res.unknownNames[k] = true
	}
}

// dataKeys lists the keys of a ConfigMap's or Secret's data and
// stringData, readable even when SOPS encrypted the values.
func dataKeys(obj *unstructured.Unstructured) []string {
	var keys []string
	for _, field := range []string{"data", "stringData", "binaryData"} {
		m, _, _ := unstructured.NestedMap(obj.Object, field)
		for k := range m {
			keys = append(keys, k)
		}
	}
	return keys
}

// varsFromOwnOutput looks for the substituteFrom objects not found in the
// cluster path among the Kustomization's own output (decrypted where it
// could be). Flux reads them from the cluster, where an earlier apply of
// this very Kustomization put them; slipway uses them as built. It returns
// the variables resolved again, in Flux's order.
func varsFromOwnOutput(ks *kustomizev1.Kustomization, vars varsResult, own []result.Object) varsResult {
	index := map[string]*unstructured.Unstructured{}
	for _, o := range own {
		if k := o.Object.GetKind(); o.Object.GetAPIVersion() == "v1" && (k == "ConfigMap" || k == "Secret") {
			index[k+"/"+o.Object.GetNamespace()+"/"+o.Object.GetName()] = o.Object
		}
	}
	outer := vars.lookup
	return loadVarsPromised(ks, func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		if outer != nil {
			if u, ok := outer(kind, namespace, name); ok {
				return u, true
			}
		}
		u, ok := index[kind+"/"+namespace+"/"+name]
		return u, ok
	}, ownPromises(vars.promises, own), true)
}

// substitute applies the resolved vars to one resource the way
// fluxcd/pkg/kustomize.SubstituteVariables does (envsubst over the
// resource's YAML, then YAML -> JSON back into the resource), written out
// here so the YAML is rendered and scanned once: calling Flux's function
// per resource, plus a strict pass to find unresolved names, doubled the
// cost of large builds. It returns the names left unresolved (sorted);
// Flux's non-strict mode blanks them, which slipway mirrors. Expressions
// over names whose values are merely unknown (encrypted source, no key)
// are left exactly as written, defaults and operators included.
//
// It returns the substituted object as toObject gives it; nil when the
// resource was left alone. res is updated only when the object does not
// come straight from the JSON (see objectFromJSON).
func substitute(ks *kustomizev1.Kustomization, vars varsResult, res *resource.Resource) (map[string]any, []string, error) {
	if res.GetLabels()[substituteDisabled] == kustomize.DisabledValue || res.GetAnnotations()[substituteDisabled] == kustomize.DisabledValue {
		return nil, nil, nil
	}
	always := ks.Spec.PostBuild.SubstituteStrategy == kustomizev1.SubstituteStrategyAlways
	if len(vars.vars) == 0 && len(vars.unknown) == 0 && len(vars.promised) == 0 && !always {
		return nil, nil, nil
	}
	for name := range vars.vars {
		if !varName.MatchString(name) {
			return nil, nil, fmt.Errorf("'%s' var name is invalid, must match '%s'", name, varName.String())
		}
	}
	data, err := resourceYAML(res)
	if err != nil {
		return nil, nil, err
	}
	text := string(data)
	if len(vars.unknownNames) > 0 {
		text = keepExpressions(text, vars.unknownNames)
	}
	missing := map[string]bool{}
	// Bound what substitution adds: a large value referenced many times
	// would grow one object past anything the API server takes (and the
	// build's memory with it). Past the bound, values are left out and the
	// object is refused below.
	grown, overflow := len(text), ""
	lookup := func(name string) (string, bool) {
		if v, ok := vars.vars[name]; ok {
			if grown += len(v); grown > MaxSubstitutedBytes {
				if overflow == "" {
					overflow = name
				}
				return "", true
			}
			return v, true
		}
		if missing[name] {
			return "", true
		}
		return "", false
	}
	var out string
	for i := 0; ; i++ {
		grown, overflow = len(text), ""
		out, err = envsubst.Eval(text, lookup)
		if overflow != "" {
			return nil, nil, &SubstitutionSizeError{Variable: overflow, Limit: MaxSubstitutedBytes}
		}
		if err == nil {
			break
		}
		name, ok := strictMissingName(err)
		if !ok || i > len(text) {
			return nil, nil, fmt.Errorf("variable substitution failed: %w", err)
		}
		if vars.open {
			// A Secret only the cluster holds may set it: keep it as
			// written (its Kustomization's finding says why).
			text = keepExpressions(text, map[string]bool{name: true})
			continue
		}
		missing[name] = true
	}
	jsonData, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return nil, nil, fmt.Errorf("YAMLToJSON: %w", err)
	}
	obj, direct, err := objectFromJSON(jsonData)
	if err != nil {
		return nil, nil, fmt.Errorf("UnmarshalJSON: %w", err)
	}
	if !direct {
		if err := res.UnmarshalJSON(jsonData); err != nil {
			return nil, nil, fmt.Errorf("UnmarshalJSON: %w", err)
		}
		u, err := toObject(res)
		if err != nil {
			return nil, nil, err
		}
		obj = u.Object
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return obj, names, nil
}

// MaxSubstitutedBytes bounds one object's YAML after substitution: the
// API server refuses a request body over 3 MiB, so nothing larger could be
// applied, and building it first could take gigabytes.
const MaxSubstitutedBytes = 3 << 20

// SubstitutionSizeError refuses an object that substitution would grow
// past MaxSubstitutedBytes.
type SubstitutionSizeError struct {
	// Variable is the one whose value crossed the limit.
	Variable string
	Limit    int
}

func (e *SubstitutionSizeError) Error() string {
	return fmt.Sprintf("variable substitution would make the object larger than %d MiB (the API server's request limit) at ${%s}: a large value referenced many times; refused", e.Limit>>20, e.Variable)
}

// keepExpressions escapes, as Flux's "$$" does, every expression of text
// that names one of names, so envsubst leaves it exactly as written:
// "${DOMAIN/./-}" stays that, operator and all, rather than becoming what
// the operator makes of a placeholder.
func keepExpressions(text string, names map[string]bool) string {
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); i++ {
		if text[i] != '$' || i+1 == len(text) {
			b.WriteByte(text[i])
			continue
		}
		if text[i+1] == '$' {
			// Already escaped: copy both, so the second one does not start
			// an expression.
			b.WriteString("$$")
			i++
			continue
		}
		if names[expressionName(text[i+1:])] {
			b.WriteByte('$')
		}
		b.WriteByte('$')
	}
	return b.String()
}

// expressionName returns the variable an expression names, given the text
// after its "$": "{NAME…}", "{#NAME}" or "NAME".
func expressionName(s string) string {
	if strings.HasPrefix(s, "{") {
		s = strings.TrimPrefix(s[1:], "#")
	}
	n := 0
	for n < len(s) && (s[n] == '_' || isAlpha(s[n]) || (n > 0 && s[n] >= '0' && s[n] <= '9')) {
		n++
	}
	return s[:n]
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// varName is Flux's rule for variable names.
var varName = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

func strictMissingName(err error) (string, bool) {
	msg := err.Error()
	const marker = "variable not set (strict mode): "
	i := strings.Index(msg, marker)
	if i < 0 {
		return "", false
	}
	name := strings.Trim(msg[i+len(marker):], `"`)
	return name, name != ""
}

// toUnstructured converts a typed Flux object for libraries that take one.
func toUnstructured(obj runtime.Object) (unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return unstructured.Unstructured{}, err
	}
	return unstructured.Unstructured{Object: m}, nil
}
