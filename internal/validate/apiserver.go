package validate

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/slipwayhq/slipway/internal/result"
)

// The API server's size limits on what it is sent and stores.
const (
	// MaxRequestBytes is kube-apiserver's default --max-request-bytes
	// limit on a request body (3 MiB): a larger object is refused with
	// 413 whatever else is right with it.
	MaxRequestBytes = 3 << 20
	// MaxStoredBytes is etcd's default --max-request-bytes (1.5 MiB): most
	// clusters refuse to store a larger object ("request is too large").
	MaxStoredBytes = 3 << 19
)

// APIServerCheck reports what the API server would refuse although the
// object's schema is right: names and namespaces that break Kubernetes'
// naming rules, labels, annotations and finalizers it rejects, Secret
// data that is not base64, objects over the request and storage limits —
// and Kustomizations slipway cannot apply (spec.kubeConfig). It uses
// apimachinery's own validation functions, so it says exactly what the API
// server would say. Without it, validate passes what apply then refuses.
type APIServerCheck struct{}

// Name implements Check.
func (APIServerCheck) Name() string { return "apiserver" }

// Run implements Check.
func (c APIServerCheck) Run(cb *result.ClusterBuild) []result.Finding {
	var out []result.Finding
	for _, kb := range cb.Kustomizations {
		if kb.Spec != nil && kb.Spec.Spec.KubeConfig != nil {
			out = append(out, finding(cb, kb, nil, result.SeverityError, c.Name(),
				"spec.kubeConfig (deploying to a remote cluster) is not supported: apply refuses this Kustomization; deploy that cluster with its own kubeconfig instead"))
		}
	}
	for _, it := range items(cb) {
		for _, msg := range objectProblems(it.o) {
			out = append(out, it.finding(cb, result.SeverityError, c.Name(), msg))
		}
		if sev, msg := sizeProblem(it.o); msg != "" {
			out = append(out, it.finding(cb, sev, c.Name(), msg))
		}
	}
	return out
}

// objectProblems lists what the API server's metadata validation and, for
// Secrets, data decoding would refuse.
func objectProblems(o result.Object) []string {
	u := o.Object
	gvk := u.GroupVersionKind()
	// Generated names are completed by the server; check the prefix only.
	errs := apivalidation.ValidateObjectMetaAccessor(u, u.GetNamespace() != "", nameRule(gvk.Group, gvk.Kind), field.NewPath("metadata"))
	var out []string
	for _, e := range errs {
		if e.Type == field.ErrorTypeRequired && e.Field == "metadata.name" && u.GetGenerateName() != "" {
			continue
		}
		out = append(out, e.Error())
	}
	if gvk.Group == "" && gvk.Kind == "Secret" && !o.Encrypted {
		out = append(out, secretDataProblems(u.Object)...)
	}
	return out
}

// nameRule is the name validation the API server applies to a kind.
// Custom resources and most built-in kinds take DNS subdomains; Namespaces
// DNS labels; Services DNS-1035 labels; RBAC objects (system:… names) and
// built-in kinds slipway has no rule for, only the path-segment rules every
// name must meet — so a finding here is never a false alarm.
func nameRule(group, kind string) apivalidation.ValidateNameFunc {
	switch {
	case group == "" && kind == "Namespace":
		return apivalidation.ValidateNamespaceName
	case group == "" && kind == "Service":
		return apivalidation.NameIsDNS1035Label
	case subdomainGroups[group] || !builtinGroups[group]:
		return apivalidation.NameIsDNSSubdomain
	}
	return pathSegmentName
}

// pathSegmentName is the rule every name meets: it is a segment of the
// object's URL path.
func pathSegmentName(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}

// subdomainGroups are built-in groups whose every kind takes DNS subdomain
// names.
var subdomainGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true,
	"networking.k8s.io": true, "storage.k8s.io": true, "apiextensions.k8s.io": true,
}

// secretDataProblems reports data values that are not base64: the API
// server cannot decode them into bytes.
func secretDataProblems(obj map[string]any) []string {
	data, _ := obj["data"].(map[string]any)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		s, ok := data[k].(string)
		if !ok {
			if data[k] != nil {
				out = append(out, fmt.Sprintf("data.%s: not a string", k))
			}
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			// Never quote the value: it is a secret.
			out = append(out, fmt.Sprintf("data.%s: not valid base64 (%d characters); put clear text in stringData instead", k, len(s)))
		}
	}
	return out
}

// sizeProblem says when an object is over the API server's request limit
// or etcd's default storage limit. Serialising every object would cost
// validate time on large fleets, so an estimate decides first.
func sizeProblem(o result.Object) (result.Severity, string) {
	if approxSize(o.Object.Object) <= MaxStoredBytes/2 {
		return "", ""
	}
	b, err := json.Marshal(o.Object.Object)
	if err != nil {
		return "", ""
	}
	switch n := len(b); {
	case n > MaxRequestBytes:
		return result.SeverityError, fmt.Sprintf("%s as JSON, over the API server's request limit of %s: it would be refused (413)", mib(n), mib(MaxRequestBytes))
	case n > MaxStoredBytes:
		return result.SeverityWarning, fmt.Sprintf("%s as JSON, over etcd's default limit of %s per object: most clusters refuse to store it", mib(n), mib(MaxStoredBytes))
	}
	return "", ""
}

// approxSize adds up the lengths of an object's keys and strings: a lower
// bound of its JSON size, cheap enough to run on every object.
func approxSize(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for k, e := range t {
			n += len(k) + approxSize(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range t {
			n += approxSize(e)
		}
		return n
	case string:
		return len(t)
	}
	return 1
}

func mib(n int) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", float64(n)/(1<<20)), "0"), ".") + " MiB"
}
