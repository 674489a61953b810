package source

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
)

// Ignore is the set of files source-controller leaves out of a
// GitRepository artifact. Files it matches do not exist for Flux: the
// kustomize-controller never sees them.
type Ignore struct {
	root    string
	matcher gitignore.Matcher
}

// NewIgnore mirrors source-controller archiving a GitRepository checked out
// at root: the patterns of every .sourceignore in the tree, then
// spec.ignore, all scoped to the source root. With no pattern at all the
// default exclusions apply; with any, only the VCS files are excluded on
// top of them (spec.ignore replaces the defaults, as Flux documents).
// The tree must be on disk.
func NewIgnore(root, spec string) (*Ignore, error) {
	domain := strings.Split(root, string(filepath.Separator))
	ps, err := sourceignore.LoadIgnorePatterns(root, domain)
	if err != nil {
		return nil, fmt.Errorf("loading .sourceignore files: %w", err)
	}
	if spec != "" {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(spec), domain)...)
	}
	matcher := sourceignore.NewDefaultMatcher(ps, domain)
	if len(ps) > 0 {
		matcher = sourceignore.NewMatcher(append(sourceignore.VCSPatterns(domain), ps...))
	}
	return &Ignore{root: root, matcher: matcher}, nil
}

// Ignored reports whether the regular file at the absolute path abs is
// left out of the artifact. source-controller matches every file on its own
// path (directories are not pruned while archiving), which is what lets
// "/*" then "!/kubernetes" keep kubernetes/**.
func (i *Ignore) Ignored(abs string) bool {
	if i == nil || !strings.HasPrefix(abs, i.root+string(filepath.Separator)) {
		return false
	}
	return i.matcher.Match(strings.Split(abs, string(filepath.Separator)), false)
}

// IgnoredUnder lists, relative to dir, the YAML files under dir that the
// artifact leaves out, for Flux's kustomization generator to skip when it
// scans a directory without kustomization.yaml.
func (i *Ignore) IgnoredUnder(dir string) ([]string, error) {
	if i == nil {
		return nil, nil
	}
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isYAMLFile(p) || !i.Ignored(p) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing ignored files: %w", err)
	}
	return out, nil
}

// IgnorePatterns writes files (relative to the directory they were listed
// under) as gitignore lines matching exactly those files.
func IgnorePatterns(files []string) string {
	var b strings.Builder
	escape := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	for _, f := range files {
		b.WriteString("/" + escape.Replace(f) + "\n")
	}
	return b.String()
}
