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
// rules apply. Close the repository to remove that directory.
func OpenRevision(repoDir, rev string) (*Repository, error) {
	g, done, err := openGitForReading(repoDir)
	if err != nil {
		return nil, err
	}
	defer done()
	commit, err := resolveCommit(g, repoDir, rev)
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: fmt.Errorf("reading tree: %w", err)}
	}
	work, err := os.MkdirTemp(scratchDir(), "slipway-rev-")
	if err != nil {
		return nil, fmt.Errorf("opening revision %s: %w", rev, err)
	}
	cleanup := func() error { return os.RemoveAll(work) }
	root := filepath.Join(work, "tree")
	if err := exportTree(tree, root); err != nil {
		_ = cleanup()
		return nil, &RevisionError{Repo: repoDir, Revision: rev, Err: err}
	}
	abs, err := filepath.EvalSymlinks(root)
	if err != nil {
		_ = cleanup()
		return nil, fmt.Errorf("opening revision %s: %w", rev, err)
	}
	fsys, err := securefs.MakeFsOnDiskSecure(abs)
	if err != nil {
		_ = cleanup()
		return nil, fmt.Errorf("opening revision %s: %w", rev, err)
	}
	return &Repository{
		Root:        abs,
		FS:          fsys,
		URLs:        gitRemoteURLs(g),
		MaxFileSize: DefaultMaxFileSize,
		Revision:    commit.Hash.String(),
		cleanup:     cleanup,
	}, nil
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

// exportTree writes the files of a tree under dir, streaming each blob so
// a large one is never held in memory (the size bound applies when read).
func exportTree(tree *object.Tree, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walking tree: %w", err)
		}
		rel, err := treePath(name)
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch entry.Mode {
		case filemode.Dir, filemode.Submodule:
			// Submodules are other repositories: an empty directory, as a
			// checkout without --recurse-submodules leaves them.
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case filemode.Symlink:
			link, err := readBlob(tree, &entry, 4096)
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
			if err := writeBlob(tree, &entry, target); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
	}
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
	return out, nil
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
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = symlinkHash(plumbing.ComputeHash(plumbing.BlobObject, []byte(filepath.ToSlash(target))))
		case d.Type().IsRegular():
			h, err := hashFile(p)
			if err != nil {
				return err
			}
			out[rel] = h
		}
		return nil
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
	if _, err := io.Copy(h, f); err != nil {
		return plumbing.ZeroHash, err
	}
	var out plumbing.Hash
	copy(out[:], h.Sum(nil))
	return out, nil
}

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
