package build

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
)

// helmCheck names the findings raised about HelmReleases that do not render.
const helmCheck = "helm"

// IsHelmRelease reports whether an object is a Flux HelmRelease.
func IsHelmRelease(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == helmv2.GroupVersion.Group && gvk.Kind == helmv2.HelmReleaseKind
}

// EncryptedValuesError says a HelmRelease takes values from a Secret that
// is still SOPS-encrypted (no age key): it cannot be rendered, as a
// Kustomization substituting from such a Secret cannot be resolved.
type EncryptedValuesError struct {
	Secret string // namespace/name
}

func (e *EncryptedValuesError) Error() string {
	return fmt.Sprintf("values from Secret %s are unknown (SOPS-encrypted, no age key): not rendered", e.Secret)
}

// renderer returns the Builder's HelmRelease renderer, made on first use so
// that builds without HelmReleases create no chart cache.
func (b *Builder) renderer() (*helm.Renderer, error) {
	b.helmOnce.Do(func() {
		opts := b.opts.Helm
		if opts.CacheDir == "" {
			dir, err := b.tempDir()
			if err != nil {
				b.helmErr = err
				return
			}
			opts.CacheDir = filepath.Join(dir, "charts")
		}
		opts.Repo, opts.Git = b.opts.Repo, b.opts.Git
		// Post-renderer kustomize runs read kustomize's global OpenAPI
		// schema: they share the builds' lock as readers, the schema
		// loaded.
		opts.KustomizeLock = sharedKustomize{}
		b.helm, b.helmErr = helm.New(opts)
	})
	return b.helm, b.helmErr
}

// releaseIndex is the part of a cluster path's build output a HelmRelease
// may refer to: chart sources and the ConfigMaps and Secrets of valuesFrom
// and secretRef, produced by any Kustomization of the cluster path.
type releaseIndex map[string]result.Object

func (ix releaseIndex) key(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

func newReleaseIndex(builds []*result.KustomizationBuild) releaseIndex {
	ix := releaseIndex{}
	for _, kb := range builds {
		for _, o := range kb.Objects {
			gvk := o.Object.GroupVersionKind()
			switch {
			case gvk.Group == "" && gvk.Version == "v1" && (gvk.Kind == "ConfigMap" || gvk.Kind == "Secret"),
				gvk.Group == flux.SourceGroup:
				ix[ix.key(gvk.Kind, o.Object.GetNamespace(), o.Object.GetName())] = o
			}
		}
	}
	return ix
}

func (ix releaseIndex) lookup(kind, namespace, name string) (*unstructured.Unstructured, bool) {
	o, ok := ix[ix.key(kind, namespace, name)]
	if !ok {
		return nil, false
	}
	return o.Object, true
}

// withExternal returns a lookup that asks the build output first, then,
// for ConfigMaps and Secrets only, external (nil: nobody): chart sources
// must come from the repository, as every other object slipway applies.
// The second result lists the values of the external Secrets handed out.
func (ix releaseIndex) withExternal(external helm.Lookup) (helm.Lookup, func() []string) {
	if external == nil {
		return ix.lookup, func() []string { return nil }
	}
	var mu sync.Mutex
	var values []string
	lookup := func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		if u, ok := ix.lookup(kind, namespace, name); ok || (kind != "ConfigMap" && kind != "Secret") {
			return u, ok
		}
		u, ok := external(kind, namespace, name)
		if ok && kind == "Secret" {
			mu.Lock()
			for _, v := range kube.DataValues(u) {
				values = append(values, v)
			}
			mu.Unlock()
		}
		return u, ok
	}
	return lookup, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return values
	}
}

// renderReleases renders every HelmRelease of the cluster path's builds.
// It runs once every Kustomization is built, so a HelmRelease whose chart
// source or valuesFrom comes from another Kustomization (built in a later
// wave, or waiting on its own inputs) sees it, as substituteFrom does.
func (b *Builder) renderReleases(ctx context.Context, st *clusterState) {
	type job struct {
		kb *result.KustomizationBuild
		o  result.Object
	}
	var jobs []job
	for _, kb := range st.order {
		kb.Releases = nil
		if kb.Err != nil {
			continue
		}
		for _, o := range kb.Objects {
			if IsHelmRelease(o.Object) {
				jobs = append(jobs, job{kb, o})
			}
		}
	}
	if len(jobs) == 0 {
		return
	}
	r, err := b.renderer()
	if err != nil {
		st.findings = append(st.findings, result.Finding{Severity: result.SeverityError, Check: helmCheck, ClusterPath: st.path,
			Message: fmt.Sprintf("HelmReleases not rendered: %v", err)})
		return
	}
	if st.reg.rootKind == sourcev1.GitRepositoryKind {
		ctx = helm.WithRootSource(ctx, st.reg.rootRef)
	}
	ix := newReleaseIndex(st.order)
	lookup, externalSecrets := ix.withExternal(b.opts.External)
	out := make([]*result.ReleaseBuild, len(jobs))
	sensitive := make([][]string, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.sem <- struct{}{}
			defer func() { <-b.sem }()
			var values []string
			if rb := encryptedValues(j.o, ix); rb != nil {
				out[i] = rb
			} else {
				out[i] = r.Render(ctx, j.o.Object, j.o.Origin, lookup)
				values = helm.SecretValues(j.o.Object, lookup)
			}
			sensitive[i] = values
		}()
	}
	wg.Wait()
	// Credentials and values read from Secrets outside the build output
	// are masked like the build's own.
	st.sensitive = append(st.sensitive, externalSecrets()...)
	for i, j := range jobs {
		rb := out[i]
		j.kb.Releases = append(j.kb.Releases, rb)
		st.sensitive = append(st.sensitive, sensitive[i]...)
		if rb.Err == nil {
			continue
		}
		sev := result.SeverityError
		var enc *EncryptedValuesError
		if errors.As(rb.Err, &enc) {
			sev = result.SeverityInfo // as for a Kustomization's unknown variables
		}
		f := objFinding(st.path, j.kb, j.o, helmCheck, rb.Err.Error())
		f.Severity = sev
		st.findings = append(st.findings, f)
	}
}

// encryptedValues returns an unrendered release when the HelmRelease takes
// values from a Secret that could not be decrypted.
func encryptedValues(o result.Object, ix releaseIndex) *result.ReleaseBuild {
	hr := o.Object
	refs, _, _ := unstructured.NestedSlice(hr.Object, "spec", "valuesFrom")
	for _, r := range refs {
		m, _ := r.(map[string]any)
		if m["kind"] != "Secret" {
			continue
		}
		name, _ := m["name"].(string)
		if s, ok := ix[ix.key("Secret", hr.GetNamespace(), name)]; ok && s.Encrypted {
			rb := &result.ReleaseBuild{Ref: result.KustomizationRef{Namespace: hr.GetNamespace(), Name: hr.GetName()}, Origin: o.Origin,
				Err: &EncryptedValuesError{Secret: hr.GetNamespace() + "/" + name}}
			rb.Suspended, _, _ = unstructured.NestedBool(hr.Object, "spec", "suspend")
			return rb
		}
	}
	return nil
}
