package source

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/slipwayhq/slipway/internal/source/yamlcheck"
)

type checkedFile struct {
	docs []yamlcheck.DocInfo
	err  error
}

// GuardedFS is the repository filesystem as one build sees it: every file
// read is bounded in size, YAML is checked strictly before kustomize parses
// it, and the files read are recorded.
type GuardedFS struct {
	filesys.FileSystem
	repo *Repository

	// AllowRemote lets kustomizations refer to remote bases.
	AllowRemote bool
	// RefuseOpenAPI makes reading a kustomization that declares its own
	// OpenAPI schema fail with ErrCustomOpenAPI (the build is then rerun
	// alone, since such a schema changes kustomize's shared state).
	RefuseOpenAPI bool
	// Ignore hides the files the source's artifact leaves out: for Flux
	// they do not exist, so a kustomization naming one fails.
	Ignore *Ignore

	mu   sync.Mutex
	read map[string]struct{}
	// docs counts the YAML documents of the distinct files read.
	docs     int
	counted  map[string]bool
	firstErr error
	openAPI  bool
	kfiles   map[string][]byte
}

// Kustomizations returns the kustomization files read (abs path -> content).
func (g *GuardedFS) Kustomizations() map[string][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string][]byte, len(g.kfiles))
	for k, v := range g.kfiles {
		out[k] = v
	}
	return out
}

// AddKustomization records a kustomization file content the build uses
// without reading it through this view (Flux's generated one).
func (g *GuardedFS) AddKustomization(path string, data []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.kfiles[path] = data
}

// CustomOpenAPI reports whether a kustomization read declared its own
// OpenAPI schema (kustomize then changes its global schema state).
func (g *GuardedFS) CustomOpenAPI() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.openAPI
}

// Guard returns a guarded view of the repository filesystem, or of fs (an
// overlay over it) when given.
func (r *Repository) Guard(fs filesys.FileSystem) *GuardedFS {
	// The size check stats files on disk: a revision's tree must be there.
	// (Failing, it leaves every read through FS failing with the reason.)
	_ = r.Materialize()
	if fs == nil {
		fs = r.FS
	}
	return &GuardedFS{FileSystem: fs, repo: r, read: map[string]struct{}{}, kfiles: map[string][]byte{}, counted: map[string]bool{}}
}

// ReadFile reads a file, refusing oversized and malformed YAML ones.
func (g *GuardedFS) ReadFile(path string) ([]byte, error) {
	if err := g.hidden(path); err != nil {
		return nil, err
	}
	if err := g.checkSize(path); err != nil {
		return nil, g.fail(err)
	}
	data, err := g.FileSystem.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g.record(path)
	if isYAMLFile(path) {
		docs, err := g.repo.checkYAML(path, data)
		if err != nil {
			return nil, g.fail(err)
		}
		if err := g.countDocuments(path, docs); err != nil {
			return nil, g.fail(err)
		}
		if IsKustomizationFile(path) {
			custom := declaresOpenAPI(data)
			g.mu.Lock()
			g.kfiles[path] = data
			g.openAPI = g.openAPI || custom
			g.mu.Unlock()
			if custom && g.RefuseOpenAPI {
				return nil, g.fail(ErrCustomOpenAPI)
			}
		}
		if !g.AllowRemote && IsKustomizationFile(path) {
			if remote := RemoteRefs(data); len(remote) > 0 {
				return nil, g.fail(&FileError{File: g.repo.Rel(path), Err: fmt.Errorf("%w: %s", ErrRemoteBase, strings.Join(remote, ", "))})
			}
		}
	}
	return data, nil
}

// Open is bounded too: kustomize opens some files instead of reading them.
func (g *GuardedFS) Open(path string) (filesys.File, error) {
	if err := g.hidden(path); err != nil {
		return nil, err
	}
	if err := g.checkSize(path); err != nil {
		return nil, g.fail(err)
	}
	g.record(path)
	return g.FileSystem.Open(path)
}

// Exists is false for a file the source's artifact leaves out.
func (g *GuardedFS) Exists(path string) bool {
	return g.hidden(path) == nil && g.FileSystem.Exists(path)
}

// hidden returns a not-exist error for a file the artifact leaves out.
func (g *GuardedFS) hidden(path string) error {
	if !g.Ignore.Ignored(path) || g.FileSystem.IsDir(path) {
		return nil
	}
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (left out of the source by its ignore rules)", fs.ErrNotExist)}
}

// Files returns the repository-relative files this view read, sorted.
func (g *GuardedFS) Files() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.read))
	for f := range g.read {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Err returns the first file problem this view met. Kustomize flattens the
// errors it gets from the filesystem, so the build consults this to report
// the precise file and line.
func (g *GuardedFS) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.firstErr
}

func (g *GuardedFS) record(path string) {
	if !strings.HasPrefix(path, g.repo.Root) {
		return // overlay files slipway generated in memory
	}
	g.mu.Lock()
	g.read[g.repo.Rel(path)] = struct{}{}
	g.mu.Unlock()
}

// countDocuments bounds the YAML documents one build reads: kustomize's
// time grows with the square of a Kustomization's objects (its resource
// map checks every new object against all before it: 10,000 take minutes).
// The error names the file and the line of the first document over.
func (g *GuardedFS) countDocuments(path string, docs []yamlcheck.DocInfo) error {
	limit := g.repo.MaxDocuments
	if limit <= 0 || IsKustomizationFile(path) {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.counted[path] {
		return nil
	}
	g.counted[path] = true
	before := g.docs
	g.docs += len(docs)
	if g.docs <= limit {
		return nil
	}
	fe := &FileError{File: g.repo.Rel(path), Err: fmt.Errorf("%w: this Kustomization reads more than %d YAML documents (%d so far); kustomize's time grows with the square of the count: split it into several Kustomizations, or raise --max-documents", ErrTooManyDocuments, limit, g.docs)}
	if i := limit - before; i >= 0 && i < len(docs) {
		fe.Line = docs[i].Line
	}
	return fe
}

func (g *GuardedFS) fail(err error) error {
	g.mu.Lock()
	if g.firstErr == nil {
		g.firstErr = err
	}
	g.mu.Unlock()
	return err
}

func (g *GuardedFS) checkSize(path string) error {
	if g.repo.MaxFileSize <= 0 || !strings.HasPrefix(path, g.repo.Root) {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return nil // let the filesystem report it
	}
	if st.Size() > g.repo.MaxFileSize {
		return &FileError{File: g.repo.Rel(path), Err: fmt.Errorf("%w: %d bytes, the limit is %d", yamlcheck.ErrTooLarge, st.Size(), g.repo.MaxFileSize)}
	}
	return nil
}

// Documents returns the YAML documents of a repository file, parsed once
// per run and cached, for mapping objects back to their line.
func (r *Repository) Documents(absPath string) ([]yamlcheck.DocInfo, error) {
	if c, ok := r.checked.Load(absPath); ok {
		cf := c.(*checkedFile)
		return cf.docs, cf.err
	}
	data, err := r.FS.ReadFile(absPath)
	if err != nil {
		return nil, err
	}
	return r.checkYAML(absPath, data)
}

func (r *Repository) checkYAML(absPath string, data []byte) ([]yamlcheck.DocInfo, error) {
	if c, ok := r.checked.Load(absPath); ok {
		cf := c.(*checkedFile)
		return cf.docs, cf.err
	}
	docs, err := yamlcheck.Check(data)
	if err != nil {
		fe := &FileError{File: r.Rel(absPath), Err: err}
		if le, ok := err.(*yamlcheck.LineError); ok {
			fe.Line, fe.Err = le.Line, le.Err
		}
		err = fe
	}
	r.checked.Store(absPath, &checkedFile{docs: docs, err: err})
	return docs, err
}

// IsKustomizationFile reports whether a path names a kustomize kustomization file.
func IsKustomizationFile(path string) bool {
	return slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path))
}

// KustomizationFile returns the kustomization file of a directory in the
// order kustomize looks for them, or "" when it has none.
func (r *Repository) KustomizationFile(dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if kf := filepath.Join(dir, name); r.FS.Exists(kf) && !r.FS.IsDir(kf) {
			return kf
		}
	}
	return ""
}

// Record notes that a build read a file it did not read through this view.
func (g *GuardedFS) Record(path string) { g.record(path) }

func isYAMLFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return true
	}
	return filepath.Base(path) == "Kustomization"
}
