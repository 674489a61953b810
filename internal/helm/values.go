package helm

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"
)

const (
	kindConfigMap = "ConfigMap"
	kindSecret    = "Secret"
)

var yamlLine = regexp.MustCompile(`line (\d+)`)

// composeValues mirrors fluxcd/pkg/chartutil.ChartValuesFromReferences,
// which helm-controller uses: valuesFrom in order, each document merged
// over the previous ones (or set at targetPath with Helm's --set parser,
// after spec.values has been merged in), then spec.values merged last.
// Chart defaults and valuesFiles are not part of it: they are the chart's
// own values (see applyValuesFiles), which Helm coalesces underneath.
func composeValues(hr *helmv2.HelmRelease, lookup Lookup) (map[string]any, error) {
	var specValues map[string]any
	if hr.Spec.Values != nil && len(hr.Spec.Values.Raw) > 0 {
		if err := yaml.Unmarshal(hr.Spec.Values.Raw, &specValues); err != nil {
			return nil, &ValuesError{Where: "spec.values", Err: err}
		}
	}
	out := map[string]any{}
	type fetched struct {
		obj   map[string]any
		found bool
	}
	seen := map[string]fetched{}
	for _, ref := range hr.Spec.ValuesFrom {
		key := ref.GetValuesKey()
		where := fmt.Sprintf("%s %s/%s key %s", ref.Kind, hr.Namespace, ref.Name, key)
		if ref.Kind != kindConfigMap && ref.Kind != kindSecret {
			return nil, &ValuesError{Where: where, Err: fmt.Errorf("unsupported valuesFrom kind %q (ConfigMap or Secret)", ref.Kind)}
		}
		// One view of each object per release, as Flux reads each once.
		id := ref.Kind + "/" + ref.Name
		f, ok := seen[id]
		if !ok {
			u, found := lookup(ref.Kind, hr.Namespace, ref.Name)
			if found {
				f = fetched{obj: u.Object, found: true}
			}
			seen[id] = f
		}
		if !f.found {
			if ref.Optional {
				continue
			}
			return nil, &ValuesError{Where: where, Err: fmt.Errorf("%s %s/%s not found in the cluster path", ref.Kind, hr.Namespace, ref.Name)}
		}
		data, ok, err := dataKey(ref.Kind, f.obj, key)
		if err != nil {
			return nil, &ValuesError{Where: where, Err: err}
		}
		if !ok {
			if ref.Optional {
				continue
			}
			return nil, &ValuesError{Where: where, Err: errors.New("key not found")}
		}
		secret := ref.Kind == kindSecret
		if ref.TargetPath != "" {
			out = mergeMaps(out, specValues)
			if err := replacePathValue(out, ref.TargetPath, string(data)); err != nil {
				if secret {
					err = fmt.Errorf("cannot set targetPath %q (value not shown: it comes from a Secret)", ref.TargetPath)
				}
				return nil, &ValuesError{Where: where, Err: err}
			}
			continue
		}
		vals, err := common.ReadValues(data)
		if err != nil {
			return nil, yamlValuesError(where, err, secret)
		}
		out = mergeMaps(out, vals)
	}
	return mergeMaps(out, specValues), nil
}

// dataKey reads one key of a ConfigMap's data or a Secret's data
// (base64) / stringData, as the API server would present it.
func dataKey(kind string, obj map[string]any, key string) ([]byte, bool, error) {
	if kind == kindSecret {
		if sd, ok := obj["stringData"].(map[string]any); ok {
			if v, ok := sd[key]; ok {
				return []byte(fmt.Sprint(v)), true, nil
			}
		}
	}
	d, ok := obj["data"].(map[string]any)
	if !ok {
		return nil, false, nil
	}
	v, ok := d[key]
	if !ok {
		return nil, false, nil
	}
	s, _ := v.(string)
	if kind == kindSecret {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, false, errors.New("data is not valid base64")
		}
		return b, true, nil
	}
	return []byte(s), true, nil
}

// yamlValuesError turns a YAML error into a ValuesError with the line; for
// Secrets only the line is kept, since YAML errors may quote the content.
func yamlValuesError(where string, err error, secret bool) error {
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	if line > 0 {
		msg = yamlLine.ReplaceAllString(msg, "")
		msg = strings.TrimLeft(strings.TrimPrefix(msg, "yaml: "), ": ")
	}
	e := errors.New("does not parse as YAML: " + msg)
	if secret {
		e = errors.New("does not parse as YAML (content not shown: it comes from a Secret)")
	}
	return &ValuesError{Where: where, Line: line, Err: e}
}

// replacePathValue sets value at the dotted path with Helm's --set parser;
// a quoted value is set as a string (--set-string), as Flux does.
func replacePathValue(values map[string]any, path, value string) error {
	quoted := len(value) >= 2 &&
		((strings.HasPrefix(value, "'") && strings.HasSuffix(value, "'")) ||
			(strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`)))
	if quoted {
		return strvals.ParseIntoString(path+"="+strings.Trim(value, `'"`), values)
	}
	return strvals.ParseInto(path+"="+value, values)
}

// mergeMaps merges b over a, recursively for nested maps; any other value
// of b replaces a's (the merge Flux uses for values and valuesFiles).
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
