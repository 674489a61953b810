package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
)

// BuildYAML writes each cluster path as one YAML stream, every object
// preceded by a "# Source:" comment naming its file and line.
func BuildYAML(w io.Writer, builds []*result.ClusterBuild) error {
	for _, cb := range builds {
		m := NewMasker(cb.Sensitive)
		var b strings.Builder
		fmt.Fprintf(&b, "# Cluster path: %s\n", cb.Path)
		for _, kb := range cb.Kustomizations {
			if err := kustomizationYAML(&b, kb); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, m.Mask(b.String())); err != nil {
			return err
		}
	}
	return nil
}

func kustomizationYAML(b *strings.Builder, kb *result.KustomizationBuild) error {
	fmt.Fprintf(b, "# Kustomization: %s (path ./%s", kb.Ref, kb.Path)
	if kb.Source != "" {
		fmt.Fprintf(b, " of %s", kb.Source)
	}
	b.WriteString(")\n")
	if kb.Err != nil {
		fmt.Fprintf(b, "# Error: %s\n", oneLine(kb.Err.Error()))
	}
	for _, o := range kb.Objects {
		if err := objectYAML(b, o, o.Origin.String()); err != nil {
			return err
		}
	}
	for _, rb := range kb.Releases {
		if err := releaseYAML(b, rb); err != nil {
			return err
		}
	}
	return nil
}

func objectYAML(b *strings.Builder, o result.Object, source string) error {
	data, err := yaml.Marshal(RedactSecret(o.Object).Object)
	if err != nil {
		return fmt.Errorf("rendering %s: %w", o.ID(), err)
	}
	b.WriteString("---\n")
	if source != "" {
		fmt.Fprintf(b, "# Source: %s\n", source)
	}
	b.Write(data)
	return nil
}

// releaseYAML writes the objects a HelmRelease renders to, after those of
// its Kustomization, each naming the HelmRelease and the chart.
func releaseYAML(b *strings.Builder, rb *result.ReleaseBuild) error {
	name := "HelmRelease " + rb.Ref.String()
	if o := rb.Origin.String(); o != "" {
		name += " (" + o + ")"
	}
	if rb.Err != nil {
		fmt.Fprintf(b, "# %s: not rendered: %s\n", name, oneLine(rb.Err.Error()))
		return nil
	}
	source := name + ", chart " + rb.Chart.Name + "@" + rb.Chart.Version
	if rb.Suspended {
		fmt.Fprintf(b, "# %s is suspended: rendered, not installed\n", name)
	}
	for _, list := range [][]result.Object{rb.CRDs, rb.Objects} {
		for _, o := range list {
			if err := objectYAML(b, o, source); err != nil {
				return err
			}
		}
	}
	return nil
}

// BuildDir writes one file per Kustomization under dir:
// <dir>/<cluster path>/<namespace>_<name>.yaml.
func BuildDir(dir string, builds []*result.ClusterBuild) error {
	for _, cb := range builds {
		m := NewMasker(cb.Sensitive)
		// Names come from repository content: a Kustomization named
		// "../../x" must not write outside dir.
		base, err := securejoin.SecureJoin(dir, filepath.FromSlash(cb.Path))
		if err != nil {
			return fmt.Errorf("cluster path %s: %w", cb.Path, err)
		}
		if err := os.MkdirAll(base, 0o755); err != nil {
			return err
		}
		for _, kb := range cb.Kustomizations {
			if err := writeKustomizationFile(base, kb, m); err != nil {
				return fmt.Errorf("cluster path %s: %w", cb.Path, err)
			}
		}
	}
	return nil
}

// writeKustomizationFile writes kb's objects to base/NAMESPACE_NAME.yaml,
// after checking both are names the API server would accept (so neither
// holds a path separator or dot-dot), and joining them with securejoin.
func writeKustomizationFile(base string, kb *result.KustomizationBuild, m *Masker) error {
	if msgs := apivalidation.ValidateNamespaceName(kb.Ref.Namespace, false); len(msgs) > 0 {
		return fmt.Errorf("kustomization %q: namespace %q is not a valid name, not written: %s", kb.Ref, kb.Ref.Namespace, msgs[0])
	}
	if msgs := apivalidation.NameIsDNSSubdomain(kb.Ref.Name, false); len(msgs) > 0 {
		return fmt.Errorf("kustomization %q: name %q is not a valid name, not written: %s", kb.Ref, kb.Ref.Name, msgs[0])
	}
	name, err := securejoin.SecureJoin(base, kb.Ref.Namespace+"_"+kb.Ref.Name+".yaml")
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := kustomizationYAML(&b, kb); err != nil {
		return err
	}
	return os.WriteFile(name, []byte(m.Mask(b.String())), 0o644)
}

type jsonObject struct {
	Origin result.Origin `json:"origin"`
	// GeneratedBy names the ResourceSet that rendered the object.
	GeneratedBy string         `json:"generatedBy,omitempty"`
	Object      map[string]any `json:"object"`
}

type jsonKustomization struct {
	Kustomization result.KustomizationRef   `json:"kustomization"`
	Path          string                    `json:"path"`
	Source        string                    `json:"source,omitempty"`
	Origin        result.Origin             `json:"origin"`
	DependsOn     []result.KustomizationRef `json:"dependsOn,omitempty"`
	Suspended     bool                      `json:"suspended,omitempty"`
	Error         string                    `json:"error,omitempty"`
	Files         []string                  `json:"files,omitempty"`
	Objects       []jsonObject              `json:"objects"`
	Releases      []jsonRelease             `json:"releases,omitempty"`
}

// jsonRelease is a rendered HelmRelease: never its values, which may hold
// secrets; ValuesDigest tells whether they changed.
type jsonRelease struct {
	HelmRelease      result.KustomizationRef   `json:"helmRelease"`
	Origin           result.Origin             `json:"origin"`
	ReleaseName      string                    `json:"releaseName,omitempty"`
	Namespace        string                    `json:"namespace,omitempty"`
	StorageNamespace string                    `json:"storageNamespace,omitempty"`
	Chart            *result.ChartRef          `json:"chart,omitempty"`
	ValuesDigest     string                    `json:"valuesDigest,omitempty"`
	DependsOn        []result.KustomizationRef `json:"dependsOn,omitempty"`
	Suspended        bool                      `json:"suspended,omitempty"`
	Error            string                    `json:"error,omitempty"`
	CRDs             []jsonObject              `json:"crds,omitempty"`
	Objects          []jsonObject              `json:"objects"`
}

func releaseJSON(rb *result.ReleaseBuild) jsonRelease {
	jr := jsonRelease{HelmRelease: rb.Ref, Origin: rb.Origin, ReleaseName: rb.ReleaseName, Namespace: rb.Namespace,
		StorageNamespace: rb.StorageNamespace, ValuesDigest: rb.ValuesDigest, DependsOn: rb.DependsOn,
		Suspended: rb.Suspended, Objects: []jsonObject{}}
	if rb.Chart.Name != "" {
		c := rb.Chart
		jr.Chart = &c
	}
	if rb.Err != nil {
		jr.Error = rb.Err.Error()
	}
	for _, o := range rb.CRDs {
		jr.CRDs = append(jr.CRDs, jsonObject{Origin: o.Origin, Object: RedactSecret(o.Object).Object})
	}
	for _, o := range rb.Objects {
		jr.Objects = append(jr.Objects, jsonObject{Origin: o.Origin, Object: RedactSecret(o.Object).Object})
	}
	return jr
}

type jsonCluster struct {
	Path           string              `json:"path"`
	Kustomizations []jsonKustomization `json:"kustomizations"`
	Findings       []result.Finding    `json:"findings"`
}

// BuildJSON writes the build as one JSON document.
func BuildJSON(w io.Writer, builds []*result.ClusterBuild) error {
	out := make([]jsonCluster, 0, len(builds))
	for _, cb := range builds {
		jc := jsonCluster{Path: cb.Path, Findings: nonNil(cb.Findings)}
		for _, kb := range cb.Kustomizations {
			jk := jsonKustomization{Kustomization: kb.Ref, Path: kb.Path, Source: kb.Source, Origin: kb.Origin,
				DependsOn: kb.DependsOn, Suspended: kb.Suspended, Files: kb.Files, Objects: []jsonObject{}}
			if kb.Err != nil {
				jk.Error = kb.Err.Error()
			}
			for _, o := range kb.Objects {
				jk.Objects = append(jk.Objects, jsonObject{Origin: o.Origin, GeneratedBy: o.GeneratedBy, Object: RedactSecret(o.Object).Object})
			}
			for _, rb := range kb.Releases {
				jk.Releases = append(jk.Releases, releaseJSON(rb))
			}
			jc.Kustomizations = append(jc.Kustomizations, jk)
		}
		out = append(out, jc)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, MaskerFor(builds).Mask(string(data))+"\n")
	return err
}

func nonNil(f []result.Finding) []result.Finding {
	if f == nil {
		return []result.Finding{}
	}
	return f
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
