package build

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
)

// promise is a Secret the cluster path does not hold but has a controller
// make in the cluster: an ExternalSecret's target, a SealedSecret's
// unsealed copy. Flux's substituteFrom reads it from the cluster once the
// controller has written it; offline its values are unknown, so the
// variables it gives are left as written instead of failing the build.
type promise struct {
	// namespace and name are the Secret's.
	namespace, name string
	// by names the object that makes it ("ExternalSecret apps/db").
	by     string
	origin result.Origin
	// keys are the data keys it is known to hold; open: it may hold others
	// (dataFrom, templateFrom), unknowable offline.
	keys []string
	open bool
}

// describe says where the Secret comes from, for findings.
func (p promise) describe() string {
	s := fmt.Sprintf("Secret %s/%s (made by %s", p.namespace, p.name, p.by)
	if p.origin.File != "" {
		s += " at " + p.origin.String()
	}
	return s + ")"
}

// secretMaker recognises one kind of object that has a controller create
// a Secret, and returns the Secrets it promises. Adding a controller is
// adding one function to secretMakers.
type secretMaker func(o *unstructured.Unstructured, namespaces namespaceLabels) []promise

var secretMakers = []secretMaker{externalSecret, clusterExternalSecret, sealedSecret}

// namespaceLabels gives the labels of the Namespaces the cluster path
// builds, for ClusterExternalSecret namespace selectors.
type namespaceLabels func() map[string]map[string]string

// promisesOf returns the Secrets an object of the build has made.
func promisesOf(o result.Object, namespaces namespaceLabels) []promise {
	var out []promise
	for _, m := range secretMakers {
		for _, p := range m(o.Object, namespaces) {
			p.origin = o.Origin
			out = append(out, p)
		}
	}
	return out
}

// externalSecret: external-secrets.io ExternalSecret (v1, v1beta1). The
// operator writes spec.target.name (default: the ExternalSecret's name)
// in its namespace, unless creationPolicy is None; with Merge it adds its
// keys to a Secret that must exist, which is still a Secret with them.
func externalSecret(o *unstructured.Unstructured, _ namespaceLabels) []promise {
	if !isGroupKind(o, "external-secrets.io", "ExternalSecret") {
		return nil
	}
	p, ok := esPromise(o.Object["spec"], o.GetName())
	if !ok {
		return nil
	}
	p.namespace = o.GetNamespace()
	p.by = "ExternalSecret " + o.GetNamespace() + "/" + o.GetName()
	return []promise{p}
}

// esPromise reads an ExternalSecret spec: the target's name and the keys
// it writes. Without a template (or with mergePolicy Merge) the keys are
// spec.data's secretKeys, open with dataFrom; a template with data or
// templateFrom replaces them with its own (templateFrom: open).
func esPromise(specV any, defaultName string) (promise, bool) {
	spec, _ := specV.(map[string]any)
	target, _ := spec["target"].(map[string]any)
	if policy, _ := target["creationPolicy"].(string); policy == "None" {
		return promise{}, false
	}
	p := promise{name: defaultName}
	if n, _ := target["name"].(string); n != "" {
		p.name = n
	}
	tmpl, _ := target["template"].(map[string]any)
	tmplData, _ := tmpl["data"].(map[string]any)
	tmplFrom, _ := tmpl["templateFrom"].([]any)
	templated := len(tmplData) > 0 || len(tmplFrom) > 0
	if merge, _ := tmpl["mergePolicy"].(string); !templated || merge == "Merge" {
		data, _ := spec["data"].([]any)
		for _, d := range data {
			m, _ := d.(map[string]any)
			if k, _ := m["secretKey"].(string); k != "" {
				p.keys = append(p.keys, k)
			}
		}
		if from, _ := spec["dataFrom"].([]any); len(from) > 0 {
			p.open = true
		}
	}
	for k := range tmplData {
		p.keys = append(p.keys, k)
	}
	if len(tmplFrom) > 0 {
		p.open = true
	}
	sort.Strings(p.keys)
	return p, true
}

// clusterExternalSecret: external-secrets.io ClusterExternalSecret makes
// an ExternalSecret (spec.externalSecretName, default its own name) in
// each namespace of spec.namespaces and of those its namespace selectors
// match. Only Namespaces the cluster path builds can be matched offline.
func clusterExternalSecret(o *unstructured.Unstructured, namespaces namespaceLabels) []promise {
	if !isGroupKind(o, "external-secrets.io", "ClusterExternalSecret") {
		return nil
	}
	spec, _ := o.Object["spec"].(map[string]any)
	esName, _ := spec["externalSecretName"].(string)
	if esName == "" {
		esName = o.GetName()
	}
	tmpl, ok := esPromise(spec["externalSecretSpec"], esName)
	if !ok {
		return nil
	}
	var out []promise
	for _, ns := range cesNamespaces(spec, namespaces) {
		p := tmpl
		p.namespace = ns
		p.by = "ClusterExternalSecret " + o.GetName()
		out = append(out, p)
	}
	return out
}

// cesNamespaces lists a ClusterExternalSecret's namespaces: the named
// ones, then the built Namespaces a selector matches.
func cesNamespaces(spec map[string]any, namespaces namespaceLabels) []string {
	seen := map[string]bool{}
	var out []string
	add := func(ns string) {
		if ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	names, _ := spec["namespaces"].([]any)
	for _, n := range names {
		s, _ := n.(string)
		add(s)
	}
	var selectors []any
	if s, ok := spec["namespaceSelector"].(map[string]any); ok {
		selectors = append(selectors, s)
	}
	more, _ := spec["namespaceSelectors"].([]any)
	selectors = append(selectors, more...)
	if len(selectors) == 0 {
		return out
	}
	built := namespaces()
	nsNames := make([]string, 0, len(built))
	for n := range built {
		nsNames = append(nsNames, n)
	}
	sort.Strings(nsNames)
	for _, s := range selectors {
		sel, err := labelSelector(s)
		if err != nil {
			continue
		}
		for _, n := range nsNames {
			if sel.Matches(labels.Set(built[n])) {
				add(n)
			}
		}
	}
	return out
}

// labelSelector reads a metav1.LabelSelector given as a map.
func labelSelector(v any) (labels.Selector, error) {
	m, _ := v.(map[string]any)
	sel := labels.NewSelector()
	ml, _ := m["matchLabels"].(map[string]any)
	for k, val := range ml {
		s, _ := val.(string)
		r, err := labels.NewRequirement(k, "=", []string{s})
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	exprs, _ := m["matchExpressions"].([]any)
	for _, e := range exprs {
		em, _ := e.(map[string]any)
		key, _ := em["key"].(string)
		op, _ := em["operator"].(string)
		vals, _ := em["values"].([]any)
		var strs []string
		for _, v := range vals {
			s, _ := v.(string)
			strs = append(strs, s)
		}
		r, err := labels.NewRequirement(key, selectionOp(op), strs)
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	return sel, nil
}

// selectionOp maps a LabelSelector operator to the labels package's.
func selectionOp(op string) selection.Operator {
	switch op {
	case "In":
		return selection.In
	case "NotIn":
		return selection.NotIn
	case "Exists":
		return selection.Exists
	case "DoesNotExist":
		return selection.DoesNotExist
	}
	return selection.Operator(op)
}

// sealedSecret: bitnami.com SealedSecret. The controller unseals it into a
// Secret of the same name and namespace (spec.template's name is not
// used) holding spec.encryptedData's keys and spec.template.data's; the
// values are sealed with the controller's key, never readable offline.
func sealedSecret(o *unstructured.Unstructured, _ namespaceLabels) []promise {
	if !isGroupKind(o, "bitnami.com", "SealedSecret") {
		return nil
	}
	p := promise{namespace: o.GetNamespace(), name: o.GetName(), by: "SealedSecret " + o.GetNamespace() + "/" + o.GetName()}
	enc, _, _ := unstructured.NestedMap(o.Object, "spec", "encryptedData")
	for k := range enc {
		p.keys = append(p.keys, k)
	}
	tmpl, _, _ := unstructured.NestedMap(o.Object, "spec", "template", "data")
	for k := range tmpl {
		p.keys = append(p.keys, k)
	}
	sort.Strings(p.keys)
	return []promise{p}
}

func isGroupKind(o *unstructured.Unstructured, group, kind string) bool {
	gvk := o.GroupVersionKind()
	return gvk.Group == group && gvk.Kind == kind
}

// indexPromises keeps an object of a build that makes Secrets, and the
// labels of a Namespace (ClusterExternalSecret selectors match them).
func (st *clusterState) indexPromises(o result.Object) {
	u := o.Object
	if u.GetKind() == "Namespace" && u.GetAPIVersion() == "v1" {
		st.namespaces[u.GetName()] = u.GetLabels()
		return
	}
	if len(promisesOf(o, func() map[string]map[string]string { return nil })) > 0 || isGroupKind(u, "external-secrets.io", "ClusterExternalSecret") {
		st.makers = append(st.makers, o)
	}
}

// promisedFindings says, once per Kustomization, which of its
// substituteFrom Secrets only a controller in the cluster makes: their
// values are unknown offline, so expressions using them were left as
// written. Not an error: Flux will find them once the controller has run.
// The sources are looked up again as loadVars found them (built, then
// external, then promised), now that every maker is known, the
// Kustomization's own output included.
func promisedFindings(st *clusterState, external helm.Lookup, promises promiseLookup) []result.Finding {
	if promises == nil {
		return nil
	}
	var out []result.Finding
	for _, kb := range st.order {
		if kb.Err != nil || kb.Spec == nil || kb.Spec.Spec.PostBuild == nil {
			continue
		}
		var used []promise
		for _, ref := range kb.Spec.Spec.PostBuild.SubstituteFrom {
			if ref.Kind != "Secret" {
				continue
			}
			if _, ok := st.lookup(ref.Kind, kb.Ref.Namespace, ref.Name); ok {
				continue
			}
			if external != nil {
				if _, ok := external(ref.Kind, kb.Ref.Namespace, ref.Name); ok {
					continue
				}
			}
			if p, ok := promises(kb.Ref.Namespace, ref.Name); ok {
				used = append(used, p)
			}
		}
		if len(used) > 0 {
			out = append(out, promisedFinding(st.path, kb, used))
		}
	}
	return out
}

func promisedFinding(clusterPath string, kb *result.KustomizationBuild, used []promise) result.Finding {
	parts := make([]string, len(used))
	for i, p := range used {
		parts[i] = p.describe()
	}
	msg := fmt.Sprintf("variables from %s are unknown offline: expressions using them are left as written; give the Secret with --external-objects", strings.Join(parts, ", "))
	for _, p := range used {
		if p.open {
			msg += fmt.Sprintf(" (%s takes keys from dataFrom or templateFrom: every variable no other source sets is left as written)", p.by)
			break
		}
	}
	r := kb.Ref
	return result.Finding{Severity: result.SeverityWarning, Check: "substitution", ClusterPath: clusterPath,
		Kustomization: &r, Origin: kb.Origin, Message: msg}
}

// ownPromises extends promises with the makers of a Kustomization's own
// output (an app's ExternalSecret next to the manifests using its
// Secret): Flux finds the Secret in the cluster once the controller has
// written it. nil stays nil (connected: the cluster is asked instead).
func ownPromises(promises promiseLookup, own []result.Object) promiseLookup {
	if promises == nil {
		return nil
	}
	none := func() map[string]map[string]string { return nil }
	return func(namespace, name string) (promise, bool) {
		if p, ok := promises(namespace, name); ok {
			return p, true
		}
		for _, o := range own {
			for _, p := range promisesOf(o, none) {
				if p.namespace == namespace && p.name == name {
					return p, true
				}
			}
		}
		return promise{}, false
	}
}
