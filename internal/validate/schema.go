package validate

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	extvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apivalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/result"
)

// SchemaCheck validates every object against a schema: built-in kinds
// against the structured schemas client-go ships (the ones server-side
// apply uses), custom resources against the CRDs in the build output, and
// Flux kinds against Flux's own API types. Unknown fields and wrong types
// are errors; kinds with no schema anywhere are warnings. Entirely offline.
type SchemaCheck struct {
	target     version
	newest     version
	once       sync.Once
	builtins   []builtinSchema
	fluxScheme *runtime.Scheme
}

// builtinSchema pairs a scheme of built-in types with the structured
// schema of those types.
type builtinSchema struct {
	scheme    *runtime.Scheme
	converter managedfields.TypeConverter
}

type version struct{ major, minor int }

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }
func (v version) less(o version) bool {
	return v.major < o.major || (v.major == o.major && v.minor < o.minor)
}

// SchemaVersion is the Kubernetes minor version whose schemas slipway embeds,
// read from the k8s.io/api module it was built with (v0.36.x is 1.36).
func SchemaVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/api" {
				parts := strings.Split(strings.TrimPrefix(d.Version, "v"), ".")
				if len(parts) >= 2 && parts[0] == "0" {
					return "1." + parts[1]
				}
			}
		}
	}
	return "1.36" // tests run without module build info
}

func parseVersion(s string) (version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return version{}, fmt.Errorf("kubernetes version %q: want MAJOR.MINOR, e.g. 1.33", s)
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || maj != 1 {
		return version{}, fmt.Errorf("kubernetes version %q: want MAJOR.MINOR, e.g. 1.33", s)
	}
	return version{maj, min}, nil
}

// NewSchemaCheck returns the schema check for a target Kubernetes version
// ("" for the newest known).
func NewSchemaCheck(target string) (*SchemaCheck, error) {
	newest, err := parseVersion(SchemaVersion())
	if err != nil {
		return nil, err
	}
	t := newest
	if target != "" {
		if t, err = parseVersion(target); err != nil {
			return nil, err
		}
		if newest.less(t) {
			return nil, fmt.Errorf("kubernetes version %s is newer than the schemas slipway embeds (%s)", t, newest)
		}
	}
	return &SchemaCheck{target: t, newest: newest}, nil
}

// Name implements Check.
func (*SchemaCheck) Name() string { return "schema" }

func (c *SchemaCheck) init() {
	c.once.Do(func() {
		c.builtins = []builtinSchema{
			{clientgoscheme.Scheme, applyconfigurations.NewTypeConverter(clientgoscheme.Scheme)},
		}
		c.fluxScheme = runtime.NewScheme()
		_ = kustomizev1.AddToScheme(c.fluxScheme)
		_ = sourcev1.AddToScheme(c.fluxScheme)
		_ = helmv2.AddToScheme(c.fluxScheme)
	})
}

// interpretedByBuild reports the Flux kinds the build decodes strictly
// (and reports as "flux" findings): checking them here too would report
// each problem twice.
func interpretedByBuild(gvk schema.GroupVersionKind) bool {
	switch {
	case gvk.Group == flux.KustomizeGroup && gvk.Kind == flux.KustomizationKind,
		gvk.Group == flux.SourceGroup && gvk.Kind == flux.GitRepositoryKind,
		gvk.Group == flux.SourceExtGroup && gvk.Kind == flux.ArtifactGeneratorKind:
		return true
	}
	return false
}

type crdSchema struct {
	structural *structuralschema.Structural
	validator  apivalidation.SchemaValidator
	err        error
}

// Run implements Check.
func (c *SchemaCheck) Run(cb *result.ClusterBuild) []result.Finding {
	c.init()
	var out []result.Finding
	crds := map[schema.GroupVersionKind]*crdSchema{}
	all := items(cb)
	for _, it := range all {
		if o := it.o; o.Object.GetKind() == "CustomResourceDefinition" && o.Object.GroupVersionKind().Group == "apiextensions.k8s.io" {
			c.addCRD(crds, o.Object)
		}
	}
	lines := newFieldLines(cb.ReadFile)
	for _, it := range all {
		if it.o.Encrypted {
			continue // ciphertext and SOPS metadata are not the object
		}
		for _, msg := range c.check(crds, it.o.Object) {
			sev := result.SeverityError
			if strings.HasPrefix(msg, "warning: ") {
				sev, msg = result.SeverityWarning, strings.TrimPrefix(msg, "warning: ")
			}
			f := it.finding(cb, sev, c.Name(), msg)
			if it.release == nil {
				// A rendered object's finding stays at its HelmRelease.
				f.Origin.Line = lines.line(it.o.Origin, msg)
			}
			out = append(out, f)
		}
	}
	return out
}

func (c *SchemaCheck) addCRD(crds map[schema.GroupVersionKind]*crdSchema, u *unstructured.Unstructured) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
		return // the CRD itself is checked as a built-in kind
	}
	for _, v := range crd.Spec.Versions {
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		s := &crdSchema{}
		crds[gvk] = s
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			s.err = fmt.Errorf("CRD %s version %s has no schema", crd.Name, v.Name)
			continue
		}
		internal := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
			s.err = fmt.Errorf("CRD %s: %w", crd.Name, err)
			continue
		}
		st, err := structuralschema.NewStructural(internal)
		if err != nil {
			s.err = fmt.Errorf("CRD %s version %s: schema is not structural: %w", crd.Name, v.Name, err)
			continue
		}
		val, _, err := apivalidation.NewSchemaValidator(internal)
		if err != nil {
			s.err = fmt.Errorf("CRD %s version %s: %w", crd.Name, v.Name, err)
			continue
		}
		s.structural, s.validator = st, val
	}
}

// check returns problems with one object; "warning: " marks warnings.
func (c *SchemaCheck) check(crds map[schema.GroupVersionKind]*crdSchema, u *unstructured.Unstructured) []string {
	gvk := u.GroupVersionKind()
	if s, ok := crds[gvk]; ok {
		return checkCR(s, u)
	}
	if gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition" {
		return checkCRD(u)
	}
	for _, b := range c.builtins {
		if b.scheme.Recognizes(gvk) {
			return c.checkBuiltin(b, gvk, u)
		}
	}
	if builtinGroups[gvk.Group] {
		return []string{fmt.Sprintf("%s %s is not served by Kubernetes %s (unknown or removed API version)", gvk.GroupVersion(), gvk.Kind, c.target)}
	}
	if interpretedByBuild(gvk) {
		return nil // decoded strictly by the build, which reports problems
	}
	if c.fluxScheme.Recognizes(gvk) {
		obj, _ := c.fluxScheme.New(gvk)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true); err != nil {
			return splitStrict(err.Error())
		}
		return nil
	}
	return []string{fmt.Sprintf("warning: no schema for %s %s: no CRD for it in the build output and it is not a built-in or Flux kind", gvk.GroupVersion(), gvk.Kind)}
}

// The prerelease-lifecycle methods of k8s.io/api types: GA types have only
// "introduced", beta types all three, so each is asked for separately.
type (
	introduced interface{ APILifecycleIntroduced() (major, minor int) }
	deprecated interface{ APILifecycleDeprecated() (major, minor int) }
	removed    interface{ APILifecycleRemoved() (major, minor int) }
)

func (c *SchemaCheck) checkBuiltin(b builtinSchema, gvk schema.GroupVersionKind, u *unstructured.Unstructured) []string {
	var out []string
	if obj, err := b.scheme.New(gvk); err == nil {
		if lc, ok := obj.(removed); ok {
			if maj, min := lc.APILifecycleRemoved(); maj > 0 && !c.target.less(version{maj, min}) {
				return []string{fmt.Sprintf("%s %s was removed in Kubernetes %d.%d (target %s)", gvk.GroupVersion(), gvk.Kind, maj, min, c.target)}
			}
		}
		if lc, ok := obj.(introduced); ok {
			if maj, min := lc.APILifecycleIntroduced(); maj > 0 && c.target.less(version{maj, min}) {
				return []string{fmt.Sprintf("%s %s is not served before Kubernetes %d.%d (target %s)", gvk.GroupVersion(), gvk.Kind, maj, min, c.target)}
			}
		}
		if lc, ok := obj.(deprecated); ok {
			if maj, min := lc.APILifecycleDeprecated(); maj > 0 && !c.target.less(version{maj, min}) {
				out = append(out, fmt.Sprintf("warning: %s %s is deprecated since Kubernetes %d.%d", gvk.GroupVersion(), gvk.Kind, maj, min))
			}
		}
	}
	return append(out, typedErrors(b.converter, u)...)
}

// notDeclared ends structured-merge-diff's message for an unknown field.
const notDeclared = ": field not declared in schema"

// maxUnknownRounds bounds typedErrors' rounds: each finds at least one
// more unknown field, and no object worth deploying has this many.
const maxUnknownRounds = 64

// typedErrors lists every schema error of u, sorted. structured-merge-diff
// stops reading a map at its first unknown field, and Go's map order
// decides which one that is: a run named one misspelled field at random
// and hid the others. Each round removes the unknown fields found (from a
// copy) and asks again, until none is left.
func typedErrors(conv managedfields.TypeConverter, u *unstructured.Unstructured) []string {
	_, err := conv.ObjectToTyped(u)
	if err == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	obj := u.DeepCopy()
	for round := 0; err != nil && round < maxUnknownRounds; round++ {
		removed := false
		for _, msg := range splitErrors(err.Error()) {
			if !seen[msg] {
				seen[msg] = true
				out = append(out, msg)
			}
			if path, ok := strings.CutSuffix(msg, notDeclared); ok {
				if steps, ok := parsePath(path); ok && deleteField(obj.Object, steps) {
					removed = true
				}
			}
		}
		if !removed {
			break
		}
		_, err = conv.ObjectToTyped(obj)
	}
	sort.Strings(out)
	return out
}

// strictPrefix starts apimachinery's strict decoding error, which names
// every unknown field, sorted: `unknown field "spec.a", unknown field "spec.b"`.
const strictPrefix = "strict decoding error: "

// splitStrict turns a strict decoding error into one message per problem,
// so each can point at its own line.
func splitStrict(msg string) []string {
	rest, ok := strings.CutPrefix(msg, strictPrefix)
	if !ok {
		return []string{msg}
	}
	var out []string
	for _, part := range strings.Split(rest, ", ") {
		out = append(out, strings.TrimSpace(part))
	}
	sort.Strings(out)
	return out
}

func checkCR(s *crdSchema, u *unstructured.Unstructured) []string {
	if s.err != nil {
		return []string{s.err.Error()}
	}
	var out []string
	cp := runtime.DeepCopyJSON(u.Object)
	unknown := pruning.PruneWithOptions(cp, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	sort.Strings(unknown)
	for _, p := range unknown {
		out = append(out, fmt.Sprintf(".%s%s", p, notDeclared))
	}
	for _, e := range apivalidation.ValidateCustomResource(nil, u.Object, s.validator) {
		out = append(out, e.Error())
	}
	return out
}

// checkCRD validates a CRD as the API server would on create: client-go
// ships no structured schema for CRDs, so it is decoded strictly (unknown
// fields, wrong types), defaulted, and run through apiextensions-apiserver's
// own validation (structural schema, names, versions).
func checkCRD(u *unstructured.Unstructured) []string {
	if u.GetAPIVersion() != apiextensionsv1.SchemeGroupVersion.String() {
		return []string{fmt.Sprintf("%s CustomResourceDefinition is not served (use %s)", u.GetAPIVersion(), apiextensionsv1.SchemeGroupVersion)}
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, crd, true); err != nil {
		return splitStrict(err.Error())
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range extvalidation.ValidateCustomResourceDefinition(context.Background(), internal) {
		out = append(out, e.Error())
	}
	return out
}

// splitErrors turns structured-merge-diff's multi-line error into one
// finding per problem.
func splitErrors(msg string) []string {
	msg = strings.TrimPrefix(msg, "errors:\n")
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
