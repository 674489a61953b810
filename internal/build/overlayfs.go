package build

import (
	"bytes"
	"errors"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// generatedKustomization lays the kustomization.yaml Flux's generator
// wrote in memory over the repository's (guarded, read-only) filesystem,
// and refuses every other write.
//
// fluxcd/pkg/kustomize's MakeFsInMemory keeps writes in kyaml's in-memory
// filesystem, which recreates every directory of the absolute path and
// accepts only names matching [a-zA-Z0-9-_.:]+: kustomize-controller builds
// in a temporary directory of its own naming, but slipway builds the
// checkout where it is, and a repository under "My Projects" or
// "fleet+staging" failed with "illegal name … in directory creation".
type generatedKustomization struct {
	filesys.FileSystem
	path string
	data []byte
}

func newGeneratedKustomization(disk filesys.FileSystem, path string, data []byte) *generatedKustomization {
	return &generatedKustomization{FileSystem: disk, path: filepath.Clean(path), data: data}
}

func (g *generatedKustomization) is(path string) bool { return filepath.Clean(path) == g.path }

// Exists implements filesys.FileSystem.
func (g *generatedKustomization) Exists(path string) bool {
	return g.is(path) || g.FileSystem.Exists(path)
}

// IsDir implements filesys.FileSystem.
func (g *generatedKustomization) IsDir(path string) bool {
	return !g.is(path) && g.FileSystem.IsDir(path)
}

// ReadFile implements filesys.FileSystem.
func (g *generatedKustomization) ReadFile(path string) ([]byte, error) {
	if g.is(path) {
		return bytes.Clone(g.data), nil
	}
	return g.FileSystem.ReadFile(path)
}

// Open implements filesys.FileSystem.
func (g *generatedKustomization) Open(path string) (filesys.File, error) {
	if g.is(path) {
		mem := filesys.MakeFsInMemory()
		if err := mem.WriteFile("/kustomization.yaml", g.data); err != nil {
			return nil, err
		}
		return mem.Open("/kustomization.yaml")
	}
	return g.FileSystem.Open(path)
}

// errReadOnly: a build never writes to the repository.
var errReadOnly = errors.New("the build's filesystem is read-only")

// Create implements filesys.FileSystem.
func (*generatedKustomization) Create(string) (filesys.File, error) { return nil, errReadOnly }

// Mkdir implements filesys.FileSystem.
func (*generatedKustomization) Mkdir(string) error { return errReadOnly }

// MkdirAll implements filesys.FileSystem.
func (*generatedKustomization) MkdirAll(string) error { return errReadOnly }

// RemoveAll implements filesys.FileSystem.
func (*generatedKustomization) RemoveAll(string) error { return errReadOnly }

// WriteFile implements filesys.FileSystem.
func (*generatedKustomization) WriteFile(string, []byte) error { return errReadOnly }
