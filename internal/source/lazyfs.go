package source

import (
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// lazyFS is an OpenRevision repository's filesystem: the locked on-disk
// one, with the revision's tree written before anything reaches it.
type lazyFS struct {
	filesys.FileSystem
	repo *Repository
}

func (l *lazyFS) Create(path string) (filesys.File, error) {
	if err := l.repo.Materialize(); err != nil {
		return nil, err
	}
	return l.FileSystem.Create(path)
}

func (l *lazyFS) Mkdir(path string) error {
	if err := l.repo.Materialize(); err != nil {
		return err
	}
	return l.FileSystem.Mkdir(path)
}

func (l *lazyFS) MkdirAll(path string) error {
	if err := l.repo.Materialize(); err != nil {
		return err
	}
	return l.FileSystem.MkdirAll(path)
}

func (l *lazyFS) RemoveAll(path string) error {
	if err := l.repo.Materialize(); err != nil {
		return err
	}
	return l.FileSystem.RemoveAll(path)
}

func (l *lazyFS) Open(path string) (filesys.File, error) {
	if err := l.repo.Materialize(); err != nil {
		return nil, err
	}
	return l.FileSystem.Open(path)
}

func (l *lazyFS) IsDir(path string) bool {
	if l.repo.Materialize() != nil {
		return false
	}
	return l.FileSystem.IsDir(path)
}

func (l *lazyFS) ReadDir(path string) ([]string, error) {
	if err := l.repo.Materialize(); err != nil {
		return nil, err
	}
	return l.FileSystem.ReadDir(path)
}

func (l *lazyFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	if err := l.repo.Materialize(); err != nil {
		return "", "", err
	}
	return l.FileSystem.CleanedAbs(path)
}

func (l *lazyFS) Exists(path string) bool {
	if l.repo.Materialize() != nil {
		return false
	}
	return l.FileSystem.Exists(path)
}

func (l *lazyFS) Glob(pattern string) ([]string, error) {
	if err := l.repo.Materialize(); err != nil {
		return nil, err
	}
	return l.FileSystem.Glob(pattern)
}

func (l *lazyFS) ReadFile(path string) ([]byte, error) {
	if err := l.repo.Materialize(); err != nil {
		return nil, err
	}
	return l.FileSystem.ReadFile(path)
}

func (l *lazyFS) WriteFile(path string, data []byte) error {
	if err := l.repo.Materialize(); err != nil {
		return err
	}
	return l.FileSystem.WriteFile(path, data)
}

func (l *lazyFS) Walk(path string, walkFn filepath.WalkFunc) error {
	if err := l.repo.Materialize(); err != nil {
		return err
	}
	return l.FileSystem.Walk(path, walkFn)
}
