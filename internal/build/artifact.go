package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"

	"github.com/slipwayhq/slipway/internal/source"
)

type artifactEntry struct {
	once sync.Once
	tree *sourceTree
	err  error
}

// gitTree fetches a GitRepository of another repository.
func (b *Builder) gitTree(ctx context.Context, reg *sourceRegistry, gr *sourcev1.GitRepository) (*sourceTree, error) {
	if b.opts.Git == nil {
		return nil, fmt.Errorf("%s is another repository and fetching is disabled", gr.Spec.URL)
	}
	ref := gitRefOf(gr)
	var err error
	if ref.Auth, ref.SSH, err = gitSecretAuth(reg.secrets, gr); err != nil {
		return nil, err
	}
	dir, rev, err := b.opts.Git.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		return nil, err
	}
	repo.MaxFileSize = b.opts.Repo.MaxFileSize
	ignore := ""
	if gr.Spec.Ignore != nil {
		ignore = *gr.Spec.Ignore
	}
	return &sourceTree{name: fmt.Sprintf("GitRepository/%s/%s@%s", gr.Namespace, gr.Name, rev), repo: repo, ignore: ignore}, nil
}

// gitSecretAuth reads the credentials a GitRepository's spec.secretRef
// names, as source-controller does; none when it names none.
func gitSecretAuth(secrets source.SecretLookup, gr *sourcev1.GitRepository) (*source.GitAuth, *source.SSHAuth, error) {
	if gr.Spec.SecretRef == nil || gr.Spec.SecretRef.Name == "" {
		return nil, nil, nil
	}
	name := gr.Spec.SecretRef.Name
	if secrets != nil {
		if u, ok := secrets("Secret", gr.Namespace, name); ok && IsEncrypted(u) {
			return nil, nil, &source.SecretRefError{Namespace: gr.Namespace, Name: name, Reason: "is SOPS-encrypted and no age key decrypts it"}
		}
	}
	return source.GitAuthFromSecret(secrets, gr.Namespace, name)
}

// artifactTree materialises the ExternalArtifact an ArtifactGenerator
// produces, by running its copy operations over its sources into a
// temporary directory. Files copied from this repository keep their
// original path for findings.
func (b *Builder) artifactTree(ctx context.Context, reg *sourceRegistry, def artifactDef) (*sourceTree, error) {
	spec, _ := json.Marshal(struct {
		S any
		A any
	}{def.gen.Spec.Sources, def.artifact})
	sum := sha256.Sum256(spec)
	key := def.gen.Namespace + "/" + def.artifact.Name + "@" + hex.EncodeToString(sum[:8])
	b.mu.Lock()
	e, ok := b.artifacts[key]
	if !ok {
		e = &artifactEntry{}
		b.artifacts[key] = e
	}
	b.mu.Unlock()
	e.once.Do(func() { e.tree, e.err = b.materialise(ctx, reg, def, hex.EncodeToString(sum[:8])) })
	return e.tree, e.err
}

func (b *Builder) materialise(ctx context.Context, reg *sourceRegistry, def artifactDef, id string) (*sourceTree, error) {
	work, err := b.tempDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "artifacts", def.gen.Namespace+"-"+def.artifact.Name+"-"+id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	trees := map[string]*sourceTree{}
	for _, s := range def.gen.Spec.Sources {
		ns := s.Namespace
		if ns == "" {
			ns = def.gen.Namespace
		}
		if s.Kind == sourcev1.ExternalArtifactKind {
			return nil, fmt.Errorf("ArtifactGenerator %s/%s: source %q: an ExternalArtifact cannot be an input", def.gen.Namespace, def.gen.Name, s.Alias)
		}
		r := b.resolve(ctx, reg, s.Kind, ns, s.Name)
		if r.err != nil {
			return nil, fmt.Errorf("ArtifactGenerator %s/%s: source %q: %w", def.gen.Namespace, def.gen.Name, s.Alias, r.err)
		}
		trees[s.Alias] = r.tree
	}
	files := map[string]string{}
	for _, op := range def.artifact.Copy {
		if err := copyOp(trees, op.From, op.To, op.Exclude, dir, files); err != nil {
			return nil, fmt.Errorf("ArtifactGenerator %s/%s artifact %s: copy %s -> %s: %w", def.gen.Namespace, def.gen.Name, def.artifact.Name, op.From, op.To, err)
		}
	}
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		return nil, err
	}
	repo.MaxFileSize = b.opts.Repo.MaxFileSize
	return &sourceTree{name: fmt.Sprintf("ExternalArtifact/%s/%s", def.gen.Namespace, def.artifact.Name), repo: repo, files: files}, nil
}

// copyOp implements the copy forms of ArtifactGenerator:
//
//	@src/dir/**      every file below dir, into to/ keeping subpaths
//	@src/dir/*.yaml  matching files of dir, into to/
//	@src/file.yaml   one file, into to/ (or renamed when to has no slash)
//	@src/dir         the directory itself, into to/dir/
func copyOp(trees map[string]*sourceTree, from, to string, exclude []string, dest string, files map[string]string) error {
	alias, rel, ok := splitAlias(from)
	if !ok {
		return fmt.Errorf("from must start with @alias/")
	}
	tree, ok := trees[alias]
	if !ok {
		return fmt.Errorf("unknown source alias %q", alias)
	}
	toRel, toDir, err := copyTarget(to)
	if err != nil {
		return err
	}
	for _, ex := range exclude {
		if !doublestar.ValidatePattern(ex) {
			return fmt.Errorf("exclude %q: not a valid glob pattern", ex)
		}
	}
	c := &copier{tree: tree, root: tree.repo.Root, selRoot: selectionRoot(rel), exclude: exclude, dest: dest, files: files}
	switch {
	case strings.HasSuffix(rel, "/**") || rel == "**":
		d := strings.TrimSuffix(strings.TrimSuffix(rel, "**"), "/")
		if d == "" {
			d = "."
		}
		return c.walk(d, toRel)
	case strings.ContainsAny(path.Base(rel), "*?["):
		return c.glob(rel, toRel)
	default:
		abs := filepath.Join(c.root, filepath.FromSlash(rel))
		if !tree.repo.FS.Exists(abs) {
			return fmt.Errorf("%s does not exist", rel)
		}
		if tree.repo.FS.IsDir(abs) {
			return c.walk(rel, path.Join(toRel, path.Base(rel)))
		}
		if toDir {
			return c.put(rel, path.Join(toRel, path.Base(rel)))
		}
		return c.put(rel, toRel)
	}
}

// copyTarget reads a copy's to: the path under the artifact, and whether
// it names a directory (a trailing slash, or the artifact root).
func copyTarget(to string) (toRel string, toDir bool, err error) {
	if !strings.HasPrefix(to, "@artifact/") && to != "@artifact" {
		return "", false, fmt.Errorf("to must start with @artifact/")
	}
	toRel = strings.TrimPrefix(strings.TrimPrefix(to, "@artifact"), "/")
	if _, err := source.CleanRelative(toRel); err != nil {
		return "", false, err
	}
	return toRel, strings.HasSuffix(to, "/") || toRel == "", nil
}

// selectionRoot is the directory a from selects below: the part before
// its first glob character, which excludes may be relative to.
func selectionRoot(rel string) string {
	if i := strings.IndexAny(rel, "*?["); i >= 0 {
		return path.Dir(rel[:i] + "x")
	}
	return rel
}

// copier copies the files of one copy operation into the artifact.
type copier struct {
	tree    *sourceTree
	root    string
	selRoot string
	exclude []string
	dest    string
	// files maps artifact paths to where they come from.
	files map[string]string
}

// excluded: excludes are doublestar patterns ("**" crosses directories),
// as source-watcher's are, matched against the source path and the path
// below the selection root; validated before, so no error here.
func (c *copier) excluded(srcRel string) bool {
	relSel := strings.TrimPrefix(strings.TrimPrefix(srcRel, c.selRoot), "/")
	for _, ex := range c.exclude {
		if m, _ := doublestar.Match(ex, srcRel); m {
			return true
		}
		if m, _ := doublestar.Match(ex, relSel); m {
			return true
		}
	}
	return false
}

// put copies one file, unless excluded.
func (c *copier) put(srcRel, dstRel string) error {
	if c.excluded(srcRel) {
		return nil
	}
	data, err := c.tree.repo.FS.ReadFile(filepath.Join(c.root, filepath.FromSlash(srcRel)))
	if err != nil {
		return err
	}
	target := filepath.Join(c.dest, filepath.FromSlash(dstRel))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(target, data, 0o644); err != nil {
		return err
	}
	c.files[path.Clean(dstRel)] = c.tree.mapFile(srcRel)
	return nil
}

// walk copies every file below dirRel to dstBase, keeping subpaths.
func (c *copier) walk(dirRel, dstBase string) error {
	base := filepath.Join(c.root, filepath.FromSlash(dirRel))
	return c.tree.repo.FS.Walk(base, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		sub, _ := filepath.Rel(base, p)
		return c.put(path.Join(dirRel, filepath.ToSlash(sub)), path.Join(dstBase, filepath.ToSlash(sub)))
	})
}

// glob copies the files of one directory that match the pattern; none
// matching is an error.
func (c *copier) glob(rel, toRel string) error {
	fs := c.tree.repo.FS
	d := path.Dir(rel)
	entries, err := fs.ReadDir(filepath.Join(c.root, filepath.FromSlash(d)))
	if err != nil {
		return err
	}
	matched := 0
	for _, e := range entries {
		if m, _ := path.Match(path.Base(rel), e); m && !fs.IsDir(filepath.Join(c.root, filepath.FromSlash(d), e)) {
			matched++
			// As source-watcher: a glob match keeps its path under to/.
			if err := c.put(path.Join(d, e), path.Join(toRel, d, e)); err != nil {
				return err
			}
		}
	}
	if matched == 0 {
		return fmt.Errorf("no files match pattern %s", rel)
	}
	return nil
}

func splitAlias(from string) (alias, rel string, ok bool) {
	if !strings.HasPrefix(from, "@") {
		return "", "", false
	}
	alias, rel, _ = strings.Cut(from[1:], "/")
	clean, err := source.CleanRelative(rel)
	if err != nil {
		return "", "", false
	}
	if strings.HasSuffix(rel, "/**") && !strings.HasSuffix(clean, "**") {
		clean += "/**"
	}
	return alias, clean, alias != ""
}
