package source

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// RevisionError is a revision that cannot be read from the repository.
type RevisionError struct {
	Repo     string
	Revision string
	Err      error
}

func (e *RevisionError) Error() string {
	return fmt.Sprintf("revision %q of %s: %v", e.Revision, e.Repo, e.Err)
}

func (e *RevisionError) Unwrap() error { return e.Err }

// OpenRevision opens the tree of one revision (a commit, branch, tag or
// expression such as HEAD~1) of the Git repository at repoDir, read from
// the object store with go-git: no checkout of the worktree, no clone.
//
// Flux's kustomization generator and its .sourceignore loader read the
// disk directly (fluxcd/pkg/kustomize offers no way to give them another
// filesystem), so the tree's blobs are written, streamed, into a private
// temporary directory and served from there through the same locked
// filesystem as OpenWorktree: the same size bound, root lock and symlink
// rules apply. The tree is written when something first reads the
// filesystem (Materialize), not before: a run whose builds all come from
// the build cache only needs the file list and hashes (Files), which the
// tree gives without writing a file. Close the repository to remove that
// directory.
func OpenRevision(repoDir, rev string) (*Repository, error) {
	g, done, err := openGitForReading(repoDir)
	if err != nil {
		return nil, err
	}
	release := done
	defer func() { release() }()
	commit, err := resolveCommit(g, repoDir, rev)
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: fmt.Errorf("reading tree: %w", err)}
	}
	idx, err := indexTree(tree)
	if err != nil {
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: err}
	}
	work, err := os.MkdirTemp(scratchDir(), "slipway-rev-")
	if err != nil {
		return nil, fmt.Errorf("opening revision %s: %w", rev, err)
	}
	root := filepath.Join(work, "tree")
	fail := func(err error) (*Repository, error) {
		_ = os.RemoveAll(work)
		return nil, fmt.Errorf("opening revision %s: %w", rev, err)
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		return fail(err)
	}
	abs, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fail(err)
	}
	fsys, err := securefs.MakeFsOnDiskSecure(abs)
	if err != nil {
		return fail(err)
	}
	lt := &lazyTree{tree: tree, done: done, dir: root, items: idx.items, repo: repoDir, rev: rev}
	release = func() {} // the lazy tree keeps the packfiles open until written
	r := &Repository{
		Root:         abs,
		URLs:         gitRemoteURLs(g),
		MaxFileSize:  DefaultMaxFileSize,
		MaxDocuments: DefaultMaxDocuments,
		Revision:     commit.Hash.String(),
		GitDir:       repoDir,
		files:        idx.files,
		dirs:         idx.dirs,
		links:        idx.links,
		lazy:         lt,
	}
	r.FS = &lazyFS{FileSystem: fsys, repo: r}
	r.cleanup = func() error {
		lt.close()
		return os.RemoveAll(work)
	}
	return r, nil
}

// treeItem is one entry of a revision's tree, checked, to be written.
type treeItem struct {
	rel   string
	entry object.TreeEntry
}

// treeIndex is what one walk of a tree gives: the entries to write, the
// files' hashes (as treeFiles) and the directories.
type treeIndex struct {
	items []treeItem
	files map[string]plumbing.Hash
	dirs  map[string]bool
	links map[string]bool
}

// indexTree walks a tree once, refusing entry names that are not paths
// inside the repository.
func indexTree(tree *object.Tree) (*treeIndex, error) {
	idx := &treeIndex{files: map[string]plumbing.Hash{}, dirs: map[string]bool{".": true}, links: map[string]bool{}}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return idx, nil
		}
		if err != nil {
			return nil, fmt.Errorf("walking tree: %w", err)
		}
		rel, err := treePath(name)
		if err != nil {
			return nil, err
		}
		switch entry.Mode {
		case filemode.Dir, filemode.Submodule:
			idx.dirs[rel] = true
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			idx.files[rel] = entry.Hash
		case filemode.Symlink:
			idx.files[rel] = symlinkHash(entry.Hash)
			idx.links[rel] = true
		default:
			continue
		}
		idx.items = append(idx.items, treeItem{rel: rel, entry: entry})
	}
}

// lazyTree writes a revision's tree on first use.
type lazyTree struct {
	ready atomic.Bool
	mu    sync.Mutex
	tree  *object.Tree
	done  func()
	dir   string
	items []treeItem
	err   error
	// repo and rev name the revision in errors.
	repo, rev string
}

func (l *lazyTree) write() error {
	if l.ready.Load() {
		return l.err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready.Load() {
		return l.err
	}
	if err := exportItems(l.tree, l.items, l.dir); err != nil {
		l.err = &RevisionError{Repo: l.repo, Revision: l.rev, Err: err}
	}
	l.finish()
	return l.err
}

func (l *lazyTree) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ready.Load() {
		l.err = &RevisionError{Repo: l.repo, Revision: l.rev, Err: errors.New("repository closed")}
		l.finish()
	}
}

func (l *lazyTree) finish() {
	l.done()
	l.tree, l.items = nil, nil
	l.ready.Store(true)
}

// Materialize writes an OpenRevision repository's tree to its directory
// if nothing has yet: call it before reading Root other than through FS
// (which does so itself). A worktree has nothing to write.
func (r *Repository) Materialize() error {
	if r == nil || r.lazy == nil {
		return nil
	}
	return r.lazy.write()
}

// Files returns the hash of every file of an OpenRevision repository's
// tree by repository-relative path (symlinks hashed apart from files of
// the same content, as ChangedFiles does), read from the tree without
// writing it; nil for a worktree. Do not modify it.
func (r *Repository) Files() map[string]plumbing.Hash {
	if r == nil {
		return nil
	}
	return r.files
}

// Close releases what opening the repository took (the exported tree of
// a revision); a worktree has nothing to release.
func (r *Repository) Close() error {
	if r == nil || r.cleanup == nil {
		return nil
	}
	err := r.cleanup()
	r.cleanup = nil
	return err
}

// ResolveRevision returns the full commit hash a revision names.
func ResolveRevision(repoDir, rev string) (string, error) {
	g, err := openGit(repoDir)
	if err != nil {
		return "", err
	}
	c, err := resolveCommit(g, repoDir, rev)
	if err != nil {
		return "", err
	}
	return c.Hash.String(), nil
}

// openGitForReading opens the repository for reading many objects: the
// packfiles stay open instead of being reopened for every object (a third
// of the time of reading a whole tree otherwise). Call done afterwards.
func openGitForReading(repoDir string) (g *git.Repository, done func(), err error) {
	g, err = openGit(repoDir)
	if err != nil {
		return nil, nil, err
	}
	st, ok := g.Storer.(*filesystem.Storage)
	if !ok {
		return g, func() {}, nil
	}
	fast := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	var wtfs billy.Filesystem
	if wt, err := g.Worktree(); err == nil {
		wtfs = wt.Filesystem
	}
	fg, err := git.Open(fast, wtfs)
	if err != nil {
		_ = fast.Close()
		return g, func() {}, nil
	}
	return fg, func() { _ = fast.Close() }, nil
}

func openGit(repoDir string) (*git.Repository, error) {
	g, err := git.PlainOpenWithOptions(repoDir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("opening git repository %s: %w", repoDir, err)
	}
	return g, nil
}

func resolveCommit(g *git.Repository, repoDir, rev string) (*object.Commit, error) {
	if rev == "" {
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: errors.New("no revision given")}
	}
	h, err := g.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		// go-git answers a walk past the first commit (HEAD~5 of a short
		// history) with a bare EOF.
		if errors.Is(err, io.EOF) {
			err = errors.New("no such revision: the history is shorter than that")
		}
		// A shallow CI checkout lacks older commits: say how to get them.
		if shallow, serr := g.Storer.Shallow(); serr == nil && len(shallow) > 0 {
			err = fmt.Errorf("%w (this is a shallow clone; fetch the history: actions/checkout with fetch-depth: 0)", err)
		}
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: err}
	}
	c, err := g.CommitObject(*h)
	if err != nil {
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: fmt.Errorf("not a commit: %w", err)}
	}
	return c, nil
}

func gitRemoteURLs(g *git.Repository) []string {
	remotes, err := g.Remotes()
	if err != nil {
		return nil
	}
	var urls []string
	for _, r := range remotes {
		for _, u := range r.Config().URLs {
			urls = append(urls, NormalizeURL(u))
		}
	}
	sort.Strings(urls)
	return urls
}

// treePath checks a tree entry name before it becomes a file name: git
// objects are data, and a crafted one may carry "..", an absolute path or
// a nested .git.
func treePath(name string) (string, error) {
	clean, err := CleanRelative(name)
	if err != nil || clean == "." || path.IsAbs(name) {
		return "", fmt.Errorf("tree entry %q: not a path inside the repository", name)
	}
	for _, part := range strings.Split(clean, "/") {
		if strings.EqualFold(part, ".git") {
			return "", fmt.Errorf("tree entry %q: names a .git directory", name)
		}
	}
	return clean, nil
}

// exportItems writes the entries of a tree under dir, streaming each
// blob so a large one is never held in memory (the size bound applies
// when read).
func exportItems(tree *object.Tree, items []treeItem, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range items {
		rel, entry := items[i].rel, &items[i].entry
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch entry.Mode {
		case filemode.Dir, filemode.Submodule:
			// Submodules are other repositories: an empty directory, as a
			// checkout without --recurse-submodules leaves them.
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case filemode.Symlink:
			link, err := readBlob(tree, entry, 4096)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			// Written as it is: the locked filesystem refuses to follow it
			// outside the tree, as for a worktree.
			if err := os.Symlink(string(link), target); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			if err := writeBlob(tree, entry, target); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
	}
	return nil
}

func blobReader(tree *object.Tree, entry *object.TreeEntry) (*object.Blob, error) {
	// Any tree of the repository reaches every blob of its object store.
	f, err := tree.TreeEntryFile(entry)
	if err != nil {
		return nil, err
	}
	return &f.Blob, nil
}

func readBlob(tree *object.Tree, entry *object.TreeEntry, limit int64) ([]byte, error) {
	b, err := blobReader(tree, entry)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}

func writeBlob(tree *object.Tree, entry *object.TreeEntry, target string) error {
	b, err := blobReader(tree, entry)
	if err != nil {
		return err
	}
	r, err := b.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// FileAction is how a file differs between two revisions.
type FileAction string

// File actions.
const (
	FileAdded    FileAction = "added"
	FileDeleted  FileAction = "deleted"
	FileModified FileAction = "modified"
)

// FileChange is one repository file that differs between two revisions.
type FileChange struct {
	// Path is repository-relative, with forward slashes.
	Path   string     `json:"path"`
	Action FileAction `json:"action"`
}

// ChangedFiles lists the files that differ between two revisions of the
// repository at repoDir, sorted by path; head "" means the worktree as it
// is on disk (untracked files included, since a worktree build reads them).
// A rename is a deletion plus an addition.
func ChangedFiles(repoDir, base, head string) ([]FileChange, error) {
	g, done, err := openGitForReading(repoDir)
	if err != nil {
		return nil, err
	}
	defer done()
	bc, err := resolveCommit(g, repoDir, base)
	if err != nil {
		return nil, err
	}
	bt, err := bc.Tree()
	if err != nil {
		return nil, &RevisionError{Repo: repoDir, Revision: base, Err: err}
	}
	baseFiles, err := treeFiles(bt)
	if err != nil {
		return nil, &RevisionError{Repo: repoDir, Revision: base, Err: err}
	}
	var headFiles map[string]plumbing.Hash
	if head == "" {
		wt, err := g.Worktree()
		if err != nil {
			return nil, fmt.Errorf("reading the worktree of %s: %w", repoDir, err)
		}
		headFiles, err = worktreeFiles(wt.Filesystem.Root())
		if err != nil {
			return nil, fmt.Errorf("reading the worktree of %s: %w", repoDir, err)
		}
	} else {
		hc, err := resolveCommit(g, repoDir, head)
		if err != nil {
			return nil, err
		}
		ht, err := hc.Tree()
		if err != nil {
			return nil, &RevisionError{Repo: repoDir, Revision: head, Err: err}
		}
		if headFiles, err = treeFiles(ht); err != nil {
			return nil, &RevisionError{Repo: repoDir, Revision: head, Err: err}
		}
	}
	return DiffFiles(baseFiles, headFiles), nil
}

// DiffFiles lists the files that differ between two file lists (path ->
// hash, as Repository.Files, TreeFiles and WorktreeFiles give them),
// sorted by path. A rename is a deletion plus an addition.
func DiffFiles(baseFiles, headFiles map[string]plumbing.Hash) []FileChange {
	var out []FileChange
	for p, h := range baseFiles {
		hh, ok := headFiles[p]
		switch {
		case !ok:
			out = append(out, FileChange{Path: p, Action: FileDeleted})
		case hh != h:
			out = append(out, FileChange{Path: p, Action: FileModified})
		}
	}
	for p := range headFiles {
		if _, ok := baseFiles[p]; !ok {
			out = append(out, FileChange{Path: p, Action: FileAdded})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// treeFiles maps every file of a tree to its blob hash. The mode is mixed
// into the hash so a file turned into a symlink counts as modified.
func treeFiles(tree *object.Tree) (map[string]plumbing.Hash, error) {
	out := map[string]plumbing.Hash{}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch entry.Mode {
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			out[name] = entry.Hash
		case filemode.Symlink:
			out[name] = symlinkHash(entry.Hash)
		}
	}
}

func symlinkHash(h plumbing.Hash) plumbing.Hash {
	// Distinct from any blob hash of the same content.
	var out plumbing.Hash
	sum := sha1.Sum(append([]byte("symlink:"), h[:]...))
	copy(out[:], sum[:])
	return out
}

// TreeFiles resolves a revision of the repository at repoDir and lists
// its files (as Repository.Files) without writing them anywhere.
func TreeFiles(repoDir, rev string) (commit string, files map[string]plumbing.Hash, err error) {
	g, done, err := openGitForReading(repoDir)
	if err != nil {
		return "", nil, err
	}
	defer done()
	c, err := resolveCommit(g, repoDir, rev)
	if err != nil {
		return "", nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return "", nil, &RevisionError{Repo: repoDir, Revision: rev, Err: err}
	}
	if files, err = treeFiles(t); err != nil {
		return "", nil, &RevisionError{Repo: repoDir, Revision: rev, Err: err}
	}
	return c.Hash.String(), files, nil
}

// WorktreeFiles hashes the files of a worktree as git would store them
// (as Repository.Files), untracked and ignored ones included.
func WorktreeFiles(root string) (map[string]plumbing.Hash, error) { return worktreeFiles(root) }

// FileHash hashes one file on disk as Files and WorktreeFiles do: its
// Git blob hash, or for a symlink the hash of its target kept apart from
// a file's. ok is false for what is neither a file nor a symlink.
func FileHash(p string, d fs.DirEntry) (h plumbing.Hash, ok bool, err error) {
	switch {
	case d.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		return symlinkHash(plumbing.ComputeHash(plumbing.BlobObject, []byte(filepath.ToSlash(target)))), true, nil
	case d.Type().IsRegular():
		h, err := hashFile(p)
		return h, err == nil, err
	}
	return plumbing.ZeroHash, false, nil
}

// worktreeFiles hashes the files of a worktree as git would store them.
func worktreeFiles(root string) (map[string]plumbing.Hash, error) {
	out := map[string]plumbing.Hash{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ".git" {
			return nil // a worktree's .git file
		}
		h, ok, err := FileHash(p, d)
		if ok {
			out[rel] = h
		}
		return err
	})
	return out, err
}

// hashFile computes a file's git blob hash, streaming it.
func hashFile(p string) (plumbing.Hash, error) {
	f, err := os.Open(p)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h := sha1.New()
	h.Write([]byte("blob " + strconv.FormatInt(st.Size(), 10) + "\x00"))
	// Through one reused buffer: repository files are small and many, and
	// io.Copy would allocate one per file.
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *buf); err != nil {
		return plumbing.ZeroHash, err
	}
	var out plumbing.Hash
	h.Sum(out[:0])
	return out, nil
}

var hashBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// GitRoot returns the worktree root of the Git repository holding dir.
func GitRoot(dir string) (string, error) {
	g, err := openGit(dir)
	if err != nil {
		return "", err
	}
	wt, err := g.Worktree()
	if err != nil {
		return "", fmt.Errorf("opening git repository %s: %w", dir, err)
	}
	return wt.Filesystem.Root(), nil
}
