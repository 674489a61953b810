package build

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/source/yamlcheck"
)

// External finds ConfigMaps and Secrets a cluster path refers to but does
// not hold: a HelmRelease's valuesFrom, a chart source's secretRef. Flux
// reads those from the cluster, where platform teams often create them out
// of band (registry credentials, values with passwords) instead of
// committing them. slipway looks in the build output first, then here:
// objects given in files (--external-objects, the action's
// external-objects input) and, when connected, the cluster.
type External struct {
	objects map[string]*unstructured.Unstructured
	// Sensitive are the values of the Secrets read from files, for masking.
	Sensitive []string
}

func externalKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// LoadExternal reads ConfigMaps and Secrets from YAML files (several
// documents each). SOPS-encrypted documents are decrypted with dec. Every
// object needs a namespace: it stands for an object of the cluster.
// Anything else in the files is an error, so a wrong file (a whole
// manifest directory, say) is refused rather than half used.
func LoadExternal(files []string, dec *Decryptor) (*External, error) {
	e := &External{objects: map[string]*unstructured.Unstructured{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &source.FileError{File: f, Err: err}
		}
		docs, err := yamlcheck.Check(data)
		if err != nil {
			line := 0
			var le *yamlcheck.LineError
			if errors.As(err, &le) {
				line, err = le.Line, le.Err
			}
			return nil, &source.FileError{File: f, Line: line, Err: err}
		}
		for _, d := range docs {
			fail := func(reason string) error { return &source.FileError{File: f, Line: d.Line, Err: errors.New(reason)} }
			if d.APIVersion != "v1" || (d.Kind != "ConfigMap" && d.Kind != "Secret") {
				return nil, fail(fmt.Sprintf("%s %s: only v1 ConfigMaps and Secrets can stand for objects of the cluster", d.Kind, d.Name))
			}
			if d.Name == "" || d.Namespace == "" {
				return nil, fail(d.Kind + " needs metadata.name and metadata.namespace")
			}
			doc, err := yamlcheck.DocumentAt(data, d.Line)
			if err != nil {
				return nil, fail(err.Error())
			}
			u := &unstructured.Unstructured{}
			js, err := yaml.YAMLToJSON(doc)
			if err == nil {
				err = u.UnmarshalJSON(js)
			}
			if err != nil {
				return nil, fail(err.Error())
			}
			if IsEncrypted(u) {
				if u, err = dec.Decrypt(u, doc); err != nil {
					return nil, fail(err.Error())
				}
			}
			k := externalKey(d.Kind, d.Namespace, d.Name)
			if _, dup := e.objects[k]; dup {
				return nil, fail(fmt.Sprintf("%s %s/%s is given twice", d.Kind, d.Namespace, d.Name))
			}
			e.objects[k] = u
			if d.Kind == "Secret" {
				for _, v := range kube.DataValues(u) {
					e.Sensitive = append(e.Sensitive, v)
				}
			}
		}
	}
	return e, nil
}

// Lookup finds an object of the files; nil when there are none.
func (e *External) Lookup() helm.Lookup {
	if e == nil || len(e.objects) == 0 {
		return nil
	}
	return func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		u, ok := e.objects[externalKey(kind, namespace, name)]
		return u, ok
	}
}

// ChainLookups asks each lookup in turn; nil ones are skipped.
func ChainLookups(lookups ...helm.Lookup) helm.Lookup {
	var ls []helm.Lookup
	for _, l := range lookups {
		if l != nil {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return nil
	}
	return func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		for _, l := range ls {
			if u, ok := l(kind, namespace, name); ok {
				return u, true
			}
		}
		return nil, false
	}
}
