package build

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/adler32"
	"sort"
	"strings"
	"sync"
	"text/template"
	"unicode"

	ssautil "github.com/fluxcd/pkg/ssa/utils"
	sprig "github.com/go-task/slim-sprig/v3"
	"github.com/gosimple/slug"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/flux"
)

// This file renders Flux Operator ResourceSets as the operator does
// (github.com/controlplaneio-fluxcd/flux-operator v0.59.0). Its code is
// internal to that module and the module needs Go 1.27, so the semantics
// are reimplemented here, function by function:
//   - renderResourceSet: internal/builder BuildResourceSetFromSpec,
//     ValidateResourceSetSpec, BuildResourceSetSteps, BuildResourceSet
//   - resourceSetTemplate: internal/builder newTemplate (<< >> delimiters,
//     slim-sprig's hermetic functions, slugify, inputs, toYaml,
//     missingkey=error)
//   - combineInputs: internal/inputs Combine, getFromProvider, Flattener,
//     Permuter; the Static provider's inputs as the
//     ResourceSetInputProvider controller exports them
//   - the owner labels and commonMetadata: the ResourceSet controller's
//     apply (fluxcd/pkg/ssa SetOwnerLabels, SetCommonMetadata).

const (
	// resourceSetOwnerGroup prefixes the owner labels the operator sets.
	resourceSetOwnerGroup = "resourceset." + flux.OperatorGroup
	// reconcileAnnotation: disabled leaves an object out of the set.
	reconcileAnnotation = flux.OperatorGroup + "/reconcile"
	// maxPermutations bounds the Permute strategy, as the operator does.
	maxPermutations = 10000
)

// inputSet is one set of inputs a template is rendered with.
type inputSet = map[string]any

// ProviderInputsError says a ResourceSet's inputs come from a provider
// whose inputs exist only in the cluster (a Git forge, a registry, an
// external service), so the ResourceSet cannot be rendered offline.
type ProviderInputsError struct {
	Provider, Type string
}

func (e *ProviderInputsError) Error() string {
	return fmt.Sprintf("ResourceSetInputProvider %s is of type %s: its inputs are fetched by the operator in the cluster, not known offline (only type Static is rendered)", e.Provider, e.Type)
}

// renderResourceSet returns the objects the operator would apply for rs,
// with the ResourceSetInputProviders its inputsFrom select among
// providers (those of the cluster path).
func renderResourceSet(rs *flux.ResourceSet, providers []*flux.ResourceSetInputProvider) ([]*unstructured.Unstructured, error) {
	if err := validateResourceSetSpec(rs.Spec); err != nil {
		return nil, err
	}
	selected, err := selectProviders(rs, providers)
	if err != nil {
		return nil, err
	}
	inputs, err := combineInputs(rs, selected)
	if err != nil {
		return nil, err
	}
	if len(rs.Spec.InputsFrom) > 0 && len(inputs) == 0 {
		// No inputs from the providers: the operator applies an empty set
		// (and garbage-collects what it applied before).
		return nil, nil
	}
	var objects []*unstructured.Unstructured
	if len(rs.Spec.Steps) > 0 {
		objects, err = renderSteps(rs.Spec.Steps, inputs)
	} else {
		objects, err = renderResources(rs.Spec.ResourcesTemplate, rs.Spec.Resources, inputs)
	}
	if err != nil {
		return nil, err
	}
	for _, o := range objects {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[resourceSetOwnerGroup+"/name"] = rs.Name
		l[resourceSetOwnerGroup+"/namespace"] = rs.Namespace
		o.SetLabels(l)
	}
	if cm := rs.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	return objects, nil
}

func validateResourceSetSpec(spec flux.ResourceSetSpec) error {
	if len(spec.Steps) > 0 && (len(spec.Resources) > 0 || spec.ResourcesTemplate != "") {
		return errors.New("spec.steps is mutually exclusive with spec.resources and spec.resourcesTemplate")
	}
	for _, s := range spec.Steps {
		if len(s.Resources) == 0 && s.ResourcesTemplate == "" {
			return fmt.Errorf("step %q: at least one of resources or resourcesTemplate must be set", s.Name)
		}
	}
	return nil
}

// renderSteps renders each step; an object in two steps is an error.
func renderSteps(steps []flux.ResourceSetStep, inputs []inputSet) ([]*unstructured.Unstructured, error) {
	var all []*unstructured.Unstructured
	stepOf := map[string]string{}
	for _, s := range steps {
		objects, err := renderResources(s.ResourcesTemplate, s.Resources, inputs)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		for _, o := range objects {
			key := objectKey(o)
			if prev, ok := stepOf[key]; ok && prev != s.Name {
				return nil, fmt.Errorf("duplicate resource %s in step %q, already defined in step %q", key, s.Name, prev)
			}
			stepOf[key] = s.Name
		}
		all = append(all, objects...)
	}
	return all, nil
}

// renderResources renders the JSON templates, then the multi-document
// template, once per input set. Objects annotated reconcile: disabled are
// left out and the first of two objects with one identity wins, except
// for JSON templates rendered without inputs, which the operator keeps
// as they are.
func renderResources(yamlTemplate string, templates []*apiextensionsv1.JSON, inputs []inputSet) ([]*unstructured.Unstructured, error) {
	var objects []*unstructured.Unstructured
	seen := map[string]bool{}
	add := func(o *unstructured.Unstructured, dedup bool) {
		if dedup && (seen[objectKey(o)] || o.GetAnnotations()[reconcileAnnotation] == "disabled") {
			return
		}
		seen[objectKey(o)] = true
		objects = append(objects, o)
	}
	for i, tmpl := range templates {
		text, err := yaml.JSONToYAML(tmpl.Raw)
		if err != nil {
			return nil, fmt.Errorf("resources[%d]: %w", i, err)
		}
		if len(inputs) == 0 {
			o, err := renderOne(string(text), nil)
			if err != nil {
				return nil, fmt.Errorf("resources[%d]: %w", i, err)
			}
			add(o, false)
			continue
		}
		for _, in := range inputs {
			o, err := renderOne(string(text), in)
			if err != nil {
				return nil, fmt.Errorf("resources[%d]: %w", i, err)
			}
			add(o, true)
		}
	}
	if yamlTemplate == "" {
		return objects, nil
	}
	sets := inputs
	if len(sets) == 0 {
		sets = []inputSet{nil}
	}
	for _, in := range sets {
		out, err := executeTemplate(yamlTemplate, in)
		if err != nil {
			return nil, fmt.Errorf("resourcesTemplate: %w", err)
		}
		docs, err := ssautil.ReadObjects(bytes.NewReader(out))
		if err != nil {
			return nil, fmt.Errorf("resourcesTemplate: reading the rendered objects: %w", err)
		}
		for _, o := range docs {
			add(o, true)
		}
	}
	return objects, nil
}

func renderOne(text string, in inputSet) (*unstructured.Unstructured, error) {
	out, err := executeTemplate(text, in)
	if err != nil {
		return nil, err
	}
	o, err := ssautil.ReadObject(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("reading the rendered object: %w", err)
	}
	return o, nil
}

func executeTemplate(text string, in inputSet) ([]byte, error) {
	t, err := resourceSetTemplate(text, in)
	if err != nil {
		return nil, fmt.Errorf("parsing the template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("executing the template: %w", err)
	}
	return b.Bytes(), nil
}

var slugOnce sync.Once

// resourceSetTemplate parses a template as the operator does. slugify
// truncates to 63 characters on word boundaries: the operator sets
// gosimple/slug's package settings so at start-up, and slipway sets them
// the same way once.
func resourceSetTemplate(text string, in inputSet) (*template.Template, error) {
	slugOnce.Do(func() {
		slug.MaxLength = 63
		slug.EnableSmartTruncate = true
	})
	return template.New("resourceset").
		Delims("<<", ">>").
		Funcs(sprig.HermeticTxtFuncMap()).
		Funcs(template.FuncMap{
			"slugify":    slug.Make,
			"inputs":     func() any { return in },
			"toYaml":     toYaml,
			"mustToYaml": mustToYaml,
		}).
		Option("missingkey=error").
		Parse(text)
}

func toYaml(v any) string {
	s, err := mustToYaml(v)
	if err != nil {
		return ""
	}
	return s
}

func mustToYaml(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// objectKey is an object's identity for deduplication: group, kind,
// namespace and name (not the version).
func objectKey(o *unstructured.Unstructured) string {
	return strings.Join([]string{o.GroupVersionKind().Group, o.GetKind(), o.GetNamespace(), o.GetName()}, "/")
}

// selectProviders returns the providers spec.inputsFrom names, in the
// ResourceSet's namespace, sorted by name as the operator sorts them.
func selectProviders(rs *flux.ResourceSet, all []*flux.ResourceSetInputProvider) ([]*flux.ResourceSetInputProvider, error) {
	chosen := map[string]*flux.ResourceSetInputProvider{}
	for _, ref := range rs.Spec.InputsFrom {
		switch {
		case ref.Name != "":
			p := findProvider(all, rs.Namespace, ref.Name)
			if p == nil {
				return nil, fmt.Errorf("inputsFrom: ResourceSetInputProvider %s/%s is not in the cluster path", rs.Namespace, ref.Name)
			}
			chosen[p.Name] = p
		case ref.Selector != nil:
			sel, err := metav1.LabelSelectorAsSelector(ref.Selector)
			if err != nil {
				return nil, fmt.Errorf("inputsFrom: selector: %w", err)
			}
			for _, p := range all {
				if p.Namespace == rs.Namespace && sel.Matches(labels.Set(p.Labels)) {
					chosen[p.Name] = p
				}
			}
		default:
			return nil, errors.New("inputsFrom: an input provider reference must have either name or selector set")
		}
	}
	out := make([]*flux.ResourceSetInputProvider, 0, len(chosen))
	for _, p := range chosen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func findProvider(all []*flux.ResourceSetInputProvider, namespace, name string) *flux.ResourceSetInputProvider {
	for _, p := range all {
		if p.Namespace == namespace && p.Name == name {
			return p
		}
	}
	return nil
}

// combineInputs gathers the ResourceSet's own inputs, then each
// provider's, each input tagged with its provider, and combines them by
// the input strategy.
func combineInputs(rs *flux.ResourceSet, providers []*flux.ResourceSetInputProvider) ([]inputSet, error) {
	type source struct {
		name   string
		inputs []inputSet
	}
	own := make([]inputSet, 0, len(rs.Spec.Inputs))
	for _, in := range rs.Spec.Inputs {
		own = append(own, withProvider(in, flux.ResourceSetKind, rs.Name, rs.Namespace))
	}
	sources := []source{{name: rs.Name, inputs: own}}
	for _, p := range providers {
		if p.Spec.Type != flux.InputProviderStatic {
			return nil, &ProviderInputsError{Provider: p.Namespace + "/" + p.Name, Type: p.Spec.Type}
		}
		// The operator exports defaultValues plus an id derived from the
		// provider's UID, which exists only in the cluster: a template
		// reading inputs.id of a Static provider fails here, loudly.
		sources = append(sources, source{name: p.Name, inputs: []inputSet{
			withProvider(p.Spec.DefaultValues, flux.ResourceSetInputProviderKind, p.Name, p.Namespace)}})
	}
	strategy := flux.InputStrategyFlatten
	includeEmpty := false
	if s := rs.Spec.InputStrategy; s != nil && s.Name != "" {
		strategy = s.Name
		includeEmpty = s.Name == flux.InputStrategyPermute && s.IncludeEmptyProviders
	}
	switch strategy {
	case flux.InputStrategyFlatten:
		var out []inputSet
		for _, s := range sources {
			out = append(out, s.inputs...)
		}
		return out, nil
	case flux.InputStrategyPermute:
		var names []string
		var lists [][]inputSet
		total := 1
		for _, s := range sources {
			if len(s.inputs) == 0 && !includeEmpty {
				continue
			}
			if total *= len(s.inputs); total > maxPermutations {
				return nil, fmt.Errorf("adding provider '%s' with %d inputs would exceed the maximum allowed permutations (%d)", s.name, len(s.inputs), maxPermutations)
			}
			key := normalizeInputKey(s.name)
			if key == "" {
				return nil, fmt.Errorf("normalized provider name is empty: '%s'", s.name)
			}
			names, lists = append(names, key), append(lists, s.inputs)
		}
		return permute(names, lists), nil
	}
	return nil, fmt.Errorf("unknown input strategy: '%s'", strategy)
}

func withProvider(in map[string]any, kind, name, namespace string) inputSet {
	out := make(inputSet, len(in)+1)
	for k, v := range in {
		out[k] = asJSONValue(v)
	}
	out["provider"] = map[string]any{
		"apiVersion": flux.OperatorGroup + "/v1",
		"kind":       kind,
		"name":       name,
		"namespace":  namespace,
	}
	return out
}

// permute is the cartesian product of the providers' inputs, the first
// provider varying slowest; each permutation holds every provider's
// input under its normalised name and an id of the chosen indexes.
func permute(names []string, lists [][]inputSet) []inputSet {
	if len(lists) == 0 {
		return nil
	}
	var out []inputSet
	idx := make([]int, len(lists))
	var walk func(level int)
	walk = func(level int) {
		if level == len(lists) {
			perm := inputSet{}
			parts := make([]string, len(lists))
			for i, j := range idx {
				perm[names[i]] = lists[i][j]
				parts[i] = fmt.Sprintf("%s=%d", names[i], j)
			}
			perm["id"] = inputID(strings.Join(parts, "/"))
			out = append(out, perm)
			return
		}
		for j := range lists[level] {
			idx[level] = j
			walk(level + 1)
		}
	}
	walk(0)
	return out
}

// normalizeInputKey makes a provider name usable as a template key:
// lower case, words joined by "_", other characters dropped.
func normalizeInputKey(key string) string {
	key = strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			return '_'
		}
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		return -1
	}, key)
	var words []string
	for w := range strings.SplitSeq(key, "_") {
		if w != "" {
			words = append(words, w)
		}
	}
	return strings.Join(words, "_")
}

// inputID is the operator's input id: the Adler-32 checksum, in decimal.
func inputID(s string) string { return fmt.Sprint(adler32.Checksum([]byte(s))) }

// asJSONValue gives a value the types encoding/json decodes to, as the
// operator reads inputs: numbers are float64, so a template prints
// 1000000 as 1e+06 there and here alike.
func asJSONValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}
