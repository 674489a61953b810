package helm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/slipwayhq/slipway/internal/result"
)

// chartArtifact is a resolved chart: what source-controller would serve as
// the HelmChart (or OCIRepository) artifact.
type chartArtifact struct {
	ref result.ChartRef
	// archive is the packaged chart in the cache.
	archive string
	// valuesFile reads one spec.chart.spec.valuesFiles entry: from inside
	// the chart for repository charts, from the source root for Git.
	valuesFile func(name string) (data []byte, where string, found bool, err error)
	// versionMetadata is appended to the chart version as helm-controller
	// does for OCIRepository charts (the first 12 hex of the digest).
	versionMetadata string
}

// resolveChart finds, fetches and, where source-controller would, repackages
// the chart of a HelmRelease.
func (r *Renderer) resolveChart(ctx context.Context, hr *helmv2.HelmRelease, lookup Lookup) (*chartArtifact, error) {
	switch {
	case hr.Spec.ChartRef != nil:
		ref := hr.Spec.ChartRef
		ns := ref.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		switch ref.Kind {
		case sourcev1.OCIRepositoryKind:
			art, err := r.ociRepositoryChart(ctx, ns, ref.Name, lookup)
			if err != nil {
				return nil, err
			}
			return r.derive(art, nil, false)
		default:
			return nil, &SourceError{Kind: ref.Kind, Namespace: ns, Name: ref.Name,
				Reason: "chartRef kind not supported by slipway (OCIRepository is)"}
		}
	case hr.Spec.Chart != nil:
		spec := hr.Spec.Chart.Spec
		sref := spec.SourceRef
		ns := sref.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		var art *chartArtifact
		var err error
		switch sref.Kind {
		case sourcev1.HelmRepositoryKind:
			art, err = r.helmRepositoryChart(ctx, ns, sref.Name, spec.Chart, spec.Version, lookup)
		case sourcev1.GitRepositoryKind:
			art, err = r.gitChart(ctx, ns, sref.Name, spec.Chart, lookup)
		default:
			return nil, &SourceError{Kind: sref.Kind, Namespace: ns, Name: sref.Name,
				Reason: "sourceRef kind not supported by slipway (HelmRepository and GitRepository are)"}
		}
		if err != nil {
			return nil, err
		}
		return r.derive(art, valuesFilesOf(spec.ValuesFiles), spec.IgnoreMissingValuesFiles)
	default:
		return nil, &SpecError{Reason: "neither spec.chart nor spec.chartRef is set"}
	}
}

// valuesFilesOf mirrors source-controller's BuildOptions.GetValuesFiles:
// a list that is just the chart's own values.yaml changes nothing.
func valuesFilesOf(files []string) []string {
	if len(files) == 1 && filepath.Clean(files[0]) == chartutil.ValuesfileName {
		return nil
	}
	return files
}

// derive applies what source-controller and helm-controller change in a
// chart before installing it — valuesFiles replacing the default values,
// digest metadata on the version — and packages the result into the cache,
// so the archive is exactly what gets rendered and installed.
func (r *Renderer) derive(art *chartArtifact, valuesFiles []string, ignoreMissing bool) (*chartArtifact, error) {
	if len(valuesFiles) == 0 && art.versionMetadata == "" {
		return art, nil
	}
	c, err := loader.LoadFile(art.archive)
	if err != nil {
		return nil, &SourceError{Kind: "chart", Namespace: "", Name: art.ref.Name, URL: art.ref.Source, Reason: "loading chart", Err: err}
	}
	var merged map[string]any
	if len(valuesFiles) > 0 {
		if art.valuesFile == nil {
			return nil, &SpecError{Reason: "spec.chart.spec.valuesFiles is not supported for this source"}
		}
		merged = map[string]any{}
		for _, name := range valuesFiles {
			data, where, found, err := art.valuesFile(name)
			if err != nil {
				return nil, &ValuesError{Where: where, Err: err}
			}
			if !found {
				if ignoreMissing {
					continue
				}
				return nil, &ValuesError{Where: where, Err: fmt.Errorf("no values file found at path %q", name)}
			}
			var vals map[string]any
			if err := yamlUnmarshal(data, &vals); err != nil {
				return nil, yamlValuesError(where, err, false)
			}
			merged = mergeMaps(merged, vals)
		}
		if err := overwriteDefaultValues(c, merged); err != nil {
			return nil, &ValuesError{Where: "chart " + c.Name() + " values.yaml", Err: err}
		}
	}
	version := c.Metadata.Version
	if art.versionMetadata != "" {
		v, err := parseVersion(version)
		if err != nil {
			return nil, &SourceError{Kind: "chart", Name: c.Name(), URL: art.ref.Source, Reason: fmt.Sprintf("invalid chart version %s", version)}
		}
		nv, err := v.SetMetadata(art.versionMetadata)
		if err != nil {
			return nil, &SourceError{Kind: "chart", Name: c.Name(), URL: art.ref.Source, Reason: "setting version metadata", Err: err}
		}
		version = nv.String()
		c.Metadata.Version = version
	}
	valuesJSON, _ := json.Marshal(merged)
	key := keyOf(art.ref.Digest, version, string(valuesJSON))
	p, err := r.cache.ensure("packaged", safeName(c.Name())+"-"+safeName(version)+"-"+key[:16], ".tgz", nil, func(w ioWriter) error {
		return packageChart(c, w)
	})
	if err != nil {
		return nil, err
	}
	out := *art
	out.archive = p
	out.ref.Version = version
	return &out, nil
}

// overwriteDefaultValues replaces the chart's values.yaml with vals, as
// source-controller does for valuesFiles.
func overwriteDefaultValues(c *chart.Chart, vals map[string]any) error {
	data := []byte{}
	if len(vals) > 0 {
		var err error
		if data, err = yamlMarshal(vals); err != nil {
			return err
		}
	}
	found := false
	for _, f := range c.Raw {
		if f.Name == chartutil.ValuesfileName {
			f.Data = data
			found = true
		}
	}
	if !found {
		return fmt.Errorf("chart has no %s", chartutil.ValuesfileName)
	}
	c.Values = vals
	return nil
}

// getSource finds a source object in the build output and decodes it.
func getSource(lookup Lookup, kind, namespace, name string, into runtime.Object) error {
	u, ok := lookup(kind, namespace, name)
	if !ok {
		return &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: "not found in the cluster path"}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: "does not decode", Err: err}
	}
	return nil
}

// credentials are what a source's secretRef provides.
type credentials struct {
	username, password string
	// dockerConfig is a .dockerconfigjson document.
	dockerConfig []byte
}

func (c credentials) empty() bool {
	return c.username == "" && c.password == "" && len(c.dockerConfig) == 0
}

// secretCredentials reads username/password (or .dockerconfigjson) from the
// Secret a source's secretRef names. Values never reach an error message.
func secretCredentials(lookup Lookup, kind, namespace, sourceName, secretName string) (credentials, error) {
	var c credentials
	if secretName == "" {
		return c, nil
	}
	u, ok := lookup(kindSecret, namespace, secretName)
	if !ok {
		return c, &SourceError{Kind: kind, Namespace: namespace, Name: sourceName,
			Reason: fmt.Sprintf("secretRef %s/%s not found in the cluster path", namespace, secretName)}
	}
	get := func(key string) string {
		b, ok, err := dataKey(kindSecret, u.Object, key)
		if err != nil || !ok {
			return ""
		}
		return string(b)
	}
	c.username, c.password = get("username"), get("password")
	if d := get(".dockerconfigjson"); d != "" {
		c.dockerConfig = []byte(d)
	}
	if c.empty() {
		return c, &SourceError{Kind: kind, Namespace: namespace, Name: sourceName,
			Reason: fmt.Sprintf("secretRef %s/%s has neither username/password nor .dockerconfigjson", namespace, secretName)}
	}
	return c, nil
}

// forHost returns basic credentials for a registry host, reading a
// .dockerconfigjson when that is what the Secret holds.
func (c credentials) forHost(host string) (user, pass string) {
	if c.username != "" || c.password != "" {
		return c.username, c.password
	}
	var cfg struct {
		Auths map[string]struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Auth     string `json:"auth"`
		} `json:"auths"`
	}
	if json.Unmarshal(c.dockerConfig, &cfg) != nil {
		return "", ""
	}
	for h, a := range cfg.Auths {
		h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
		if strings.TrimSuffix(h, "/") != host {
			continue
		}
		if a.Username != "" || a.Password != "" {
			return a.Username, a.Password
		}
		if b, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
			u, p, _ := strings.Cut(string(b), ":")
			return u, p
		}
	}
	return "", ""
}
