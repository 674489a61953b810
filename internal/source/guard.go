package source

import (
	"errors"
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
	// files are the paths read as files (cleaned): no directories.
	files map[string]bool
	// docs counts the YAML documents of the distinct files read.
	docs     int
	counted  map[string]bool
	firstErr error
	openAPI  bool
	kfiles   map[string][]byte
	// dataFiles are the generator inputs of the kustomizations read:
	// opaque bytes to kustomize, so not YAML-checked unless manifestFiles
	// (resources, patches of the same kustomizations) holds them too.
	dataFiles, manifestFiles map[string]bool
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

// ReadAsFile reports whether path was read through g as a file (whether
// or not its YAML then passed the checks), so is no directory: asking the locked filesystem again costs a handful of
// system calls per path (it resolves every symlink of the path first).
func (g *GuardedFS) ReadAsFile(path string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.files[filepath.Clean(path)]
}

// AddKustomization records a kustomization file content the build uses
// without reading it through this view (Flux's generated one).
func (g *GuardedFS) AddKustomization(path string, data []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.kfiles[path] = data
	g.addDataFiles(path, data)
}

// addDataFiles records a kustomization's generator inputs; g.mu held.
func (g *GuardedFS) addDataFiles(kfile string, data []byte) {
	generated, manifests := generatorDataFiles(kfile, data)
	for _, p := range generated {
		g.dataFiles[p] = true
	}
	for _, p := range manifests {
		g.manifestFiles[p] = true
	}
}

func (g *GuardedFS) isDataFile(path string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := filepath.Clean(path)
	return g.dataFiles[p] && !g.manifestFiles[p]
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
	return &GuardedFS{FileSystem: fs, repo: r, read: map[string]struct{}{}, files: map[string]bool{}, kfiles: map[string][]byte{}, counted: map[string]bool{}, dataFiles: map[string]bool{}, manifestFiles: map[string]bool{}}
}

// ErrOutsideRepository is a path a kustomization names outside the
// repository (../../../etc/passwd, /abs/path).
var ErrOutsideRepository = errors.New("outside the repository")

// outside refuses a path lexically outside the repository before the
// filesystem looks at it. Asked first, securefs resolves symlinks and
// fails with "lstat …: no such file" or "permission denied", which tells
// whoever wrote the kustomization whether a path exists on the runner;
// this answer is the same either way.
func (g *GuardedFS) outside(op, path string) error {
	if !filepath.IsAbs(path) {
		return nil
	}
	clean := filepath.Clean(path)
	if within(g.repo.Root, clean) {
		return nil
	}
	return &fs.PathError{Op: op, Path: clean, Err: ErrOutsideRepository}
}

// viaSymlink replaces err, the failure to use a path inside the
// repository, with ErrOutsideRepository when a symlink leads the path out:
// the filesystem's own error would again say whether the target exists.
func (g *GuardedFS) viaSymlink(op, path string, err error) error {
	if err == nil || !filepath.IsAbs(path) || !escapesBySymlink(g.repo.Root, filepath.Clean(path)) {
		return err
	}
	return &fs.PathError{Op: op, Path: filepath.Clean(path), Err: ErrOutsideRepository}
}

// maxSymlinkHops bounds symlink resolution as the kernel does (ELOOP).
const maxSymlinkHops = 40

// escapesBySymlink reports whether resolving the symlinks of path, which
// is lexically inside root, leaves root. It reads links inside root only
// and never looks at what lies outside.
func escapesBySymlink(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	parts, cur, hops := strings.Split(rel, string(filepath.Separator)), root, 0
	for i := 0; i < len(parts); i++ {
		next := filepath.Join(cur, parts[i])
		if !within(root, next) {
			return true
		}
		fi, err := os.Lstat(next)
		if err != nil {
			return false // missing inside the repository: the filesystem says so
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		target, err := os.Readlink(next)
		if hops++; err != nil || hops > maxSymlinkHops {
			return false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		if !within(root, filepath.Clean(target)) {
			return true
		}
		// Go on from the link's target, with the rest of the path.
		trel, _ := filepath.Rel(root, filepath.Clean(target))
		parts, cur, i = append(strings.Split(trel, string(filepath.Separator)), parts[i+1:]...), root, -1
	}
	return false
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// CleanedAbs is refused for a path outside the repository (kustomize asks
// it of every resource that is not a file it could read).
func (g *GuardedFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	if err := g.outside("open", path); err != nil {
		return "", "", err
	}
	d, f, err := g.FileSystem.CleanedAbs(path)
	return d, f, g.viaSymlink("open", path, err)
}

// IsDir is false for a path outside the repository, without looking.
func (g *GuardedFS) IsDir(path string) bool {
	return g.outside("open", path) == nil && g.FileSystem.IsDir(path)
}

// ReadFile reads a file, refusing oversized and malformed YAML ones.
func (g *GuardedFS) ReadFile(path string) ([]byte, error) {
	if err := g.outside("open", path); err != nil {
		return nil, err
	}
	if err := g.hidden(path); err != nil {
		return nil, err
	}
	if err := g.checkSize(path); err != nil {
		return nil, g.fail(g.viaSymlink("open", path, err))
	}
	data, err := g.FileSystem.ReadFile(path)
	if err != nil {
		return nil, g.viaSymlink("open", path, err)
	}
	g.record(path)
	g.mu.Lock()
	g.files[filepath.Clean(path)] = true
	g.mu.Unlock()
	if isYAMLFile(path) && !g.isDataFile(path) {
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
			g.addDataFiles(path, data)
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
	if err := g.outside("open", path); err != nil {
		return nil, err
	}
	if err := g.hidden(path); err != nil {
		return nil, err
	}
	if err := g.checkSize(path); err != nil {
		return nil, g.fail(g.viaSymlink("open", path, err))
	}
	g.record(path)
	f, err := g.FileSystem.Open(path)
	return f, g.viaSymlink("open", path, err)
}

// Exists is false for a file the source's artifact leaves out.
func (g *GuardedFS) Exists(path string) bool {
	return g.outside("open", path) == nil && g.hidden(path) == nil && g.FileSystem.Exists(path)
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
