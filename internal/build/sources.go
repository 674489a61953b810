package build

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/source/yamlcheck"
)

// sourceTree is the file tree a Kustomization's spec.path is resolved in.
type sourceTree struct {
	// name is "" for this repository, else Kind/namespace/name.
	name   string
	repo   *source.Repository
	ignore string
	// files maps tree-relative paths back to this repository's paths when
	// the tree was copied from it (ExternalArtifact), so findings point at
	// the file a reviewer can open.
	files map[string]string
}

type ignoreEntry struct {
	once   sync.Once
	ignore *source.Ignore
	err    error
}

// artifactIgnore returns what source-controller would leave out of a
// tree's artifact, computed once per tree and spec.ignore (it reads every
// .sourceignore of the tree).
func (b *Builder) artifactIgnore(s *sourceTree) (*source.Ignore, error) {
	key := s.repo.Root + "\x00" + s.ignore
	b.mu.Lock()
	e, ok := b.ignores[key]
	if !ok {
		e = &ignoreEntry{}
		b.ignores[key] = e
	}
	b.mu.Unlock()
	e.once.Do(func() {
		if e.err = s.repo.Materialize(); e.err == nil {
			e.ignore, e.err = source.NewIgnore(s.repo.Root, s.ignore)
		}
	})
	return e.ignore, e.err
}

func (s *sourceTree) describe() string {
	if s.name == "" {
		return "the repository"
	}
	return s.name
}

// document returns the committed YAML document an object came from.
func (s *sourceTree) document(o result.Origin) ([]byte, error) {
	data, err := s.file(o)
	if err != nil {
		return nil, err
	}
	return yamlcheck.DocumentAt(data, o.Line)
}

// file reads the file an origin in this tree names.
func (s *sourceTree) file(o result.Origin) ([]byte, error) {
	return s.repo.FS.ReadFile(filepath.Join(s.repo.Root, filepath.FromSlash(o.File)))
}

func (s *sourceTree) mapFile(rel string) string {
	if rel == "" {
		return ""
	}
	if s.files != nil {
		if orig, ok := s.files[rel]; ok {
			return orig
		}
	}
	if s.name == "" || s.files != nil {
		return rel
	}
	return s.name + ":" + rel
}

func (s *sourceTree) mapFiles(rels []string) []string {
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, s.mapFile(r))
	}
	return out
}

// SourceError says why a Kustomization's sourceRef cannot be resolved.
type SourceError struct {
	Kind, Namespace, Name string
	Reason                string
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("sourceRef %s %s/%s: %s", e.Kind, e.Namespace, e.Name, e.Reason)
}

// sourceRegistry holds the sources a cluster path declares.
type sourceRegistry struct {
	// rootKind and rootRef name the source the cluster was bootstrapped
	// from (a GitRepository, or whatever a FluxInstance or --root-source
	// names): this repository.
	rootKind string
	rootRef  string
	gitRepos map[string]*sourcev1.GitRepository
	ociRepos map[string]*sourcev1.OCIRepository
	buckets  map[string]*sourcev1.Bucket
	// origins says where each GitRepository (ns/name) and each Bucket
	// (Bucket/ns/name) was declared.
	origins map[string]result.Origin
	// artifacts maps ExternalArtifact ns/name to its generator.
	artifacts map[string]artifactDef
	// secrets finds the Secrets a GitRepository's secretRef names: built
	// so far, then the external objects (files, cluster).
	secrets source.SecretLookup
}

type artifactDef struct {
	gen      *flux.ArtifactGenerator
	artifact flux.OutputArtifact
}

func newRegistry() *sourceRegistry {
	return &sourceRegistry{
		rootKind:  sourcev1.GitRepositoryKind,
		rootRef:   flux.DefaultNamespace + "/" + flux.DefaultNamespace,
		gitRepos:  map[string]*sourcev1.GitRepository{},
		ociRepos:  map[string]*sourcev1.OCIRepository{},
		buckets:   map[string]*sourcev1.Bucket{},
		origins:   map[string]result.Origin{},
		artifacts: map[string]artifactDef{},
	}
}

// resolution is the answer to "where are this Kustomization's files".
type resolution struct {
	tree *sourceTree
	// pending: the source may yet be declared by a Kustomization not built.
	pending bool
	err     error
}

// isThisRepo reports whether a GitRepository ns/name is this repository.
func (b *Builder) isThisRepo(reg *sourceRegistry, key string) bool {
	if key == reg.rootRef && reg.rootKind == sourcev1.GitRepositoryKind {
		return true
	}
	if gr, ok := reg.gitRepos[key]; ok {
		return b.opts.Repo.IsThisRepository(gr.Spec.URL)
	}
	return false
}

func (b *Builder) resolve(ctx context.Context, reg *sourceRegistry, kind, namespace, name string) resolution {
	key := namespace + "/" + name
	if kind == reg.rootKind && key == reg.rootRef && kind != sourcev1.GitRepositoryKind {
		// A root of another kind (an OCIRepository a FluxInstance syncs,
		// --root-source) is this repository as pushed.
		return resolution{tree: &sourceTree{repo: b.opts.Repo}}
	}
	switch kind {
	case sourcev1.GitRepositoryKind:
		if gr, ok := reg.gitRepos[key]; ok {
			if reason := unsupportedGitSpec(gr, b.isThisRepo(reg, key)); reason != "" {
				return resolution{err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: reason}}
			}
		}
		if b.isThisRepo(reg, key) {
			tree, err := b.thisRepoTree(ctx, reg, key)
			if err != nil {
				return b.gitFailure(kind, namespace, name, err)
			}
			return resolution{tree: tree}
		}
		gr, ok := reg.gitRepos[key]
		if !ok {
			return resolution{pending: true, err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: "no such GitRepository in the cluster path"}}
		}
		tree, err := b.gitTree(ctx, reg, gr)
		if err != nil {
			return b.gitFailure(kind, namespace, name, err)
		}
		return resolution{tree: tree}
	case sourcev1.OCIRepositoryKind:
		or, ok := reg.ociRepos[key]
		if !ok {
			return resolution{pending: true, err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: "no such OCIRepository in the cluster path"}}
		}
		tree, err := b.ociTree(ctx, reg, or)
		if err != nil {
			return b.gitFailure(kind, namespace, name, err)
		}
		return resolution{tree: tree}
	case sourcev1.BucketKind:
		bk, ok := reg.buckets[key]
		if !ok {
			return resolution{pending: true, err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: "no such Bucket in the cluster path"}}
		}
		tree, err := b.bucketTree(ctx, reg, bk)
		if err != nil {
			return b.gitFailure(kind, namespace, name, err)
		}
		return resolution{tree: tree}
	case sourcev1.ExternalArtifactKind:
		def, ok := reg.artifacts[key]
		if !ok {
			return resolution{pending: true, err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: "no ArtifactGenerator in the cluster path produces it"}}
		}
		tree, err := b.artifactTree(ctx, reg, def)
		if err != nil {
			return resolution{err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: err.Error()}}
		}
		return resolution{tree: tree}
	default:
		return resolution{err: &SourceError{Kind: kind, Namespace: namespace, Name: name,
			Reason: "source kind not supported by slipway yet (GitRepository, OCIRepository, Bucket and ExternalArtifact are)"}}
	}
}

// gitFailure is a GitRepository that cannot be read.
func (b *Builder) gitFailure(kind, namespace, name string, err error) resolution {
	// The Secret may come from a Kustomization not built yet.
	var sre *source.SecretRefError
	pending := errors.As(err, &sre) && sre.NotFound
	return resolution{pending: pending, err: &SourceError{Kind: kind, Namespace: namespace, Name: name, Reason: err.Error()}}
}

// unsupportedGitSpec says why a GitRepository's content cannot be built
// as source-controller would assemble it: included repositories and
// submodules are not fetched, and building without them would read other
// content than the source names — so it is an error, never a silent gap.
// This repository's submodules are whatever the checkout holds.
func unsupportedGitSpec(gr *sourcev1.GitRepository, thisRepo bool) string {
	switch {
	case len(gr.Spec.Include) > 0:
		return fmt.Sprintf("spec.include (%d repositories) is not supported: their files would be missing from the build", len(gr.Spec.Include))
	case gr.Spec.RecurseSubmodules && !thisRepo:
		return "spec.recurseSubmodules is not supported for other repositories: the submodules' files would be missing from the build"
	}
	return ""
}

func refKey(namespace, name string) string { return namespace + "/" + name }
