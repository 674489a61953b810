package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"

	"github.com/slipwayhq/slipway/hack/fidelity/compare"
)

// sourceTree returns a copy of repo holding the files source-controller
// would put in the artifact of the GitRepository ref names, for the
// Flux CLI, which reads a directory as it is and knows nothing of
// spec.ignore. It follows source-controller's archiving with Flux's own
// ignore library: every .sourceignore, then spec.ignore; the default
// exclusions only when there is no pattern at all; every file matched on
// its own path. Copies are shared by the sources of one ignore.
func sourceTree(repo, tmp, ref string, objects []compare.Object) (string, error) {
	spec := sourceIgnore(ref, objects)
	// One copy per tree and ignore: fetched trees get theirs.
	sum := sha256.Sum256([]byte(repo + "\x00" + spec))
	dst := filepath.Join(tmp, "source-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	ps, err := sourceignore.LoadIgnorePatterns(repo, nil)
	if err != nil {
		return "", err
	}
	if spec != "" {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(spec), nil)...)
	}
	matcher := sourceignore.NewDefaultMatcher(ps, nil)
	if len(ps) > 0 {
		matcher = sourceignore.NewMatcher(append(sourceignore.VCSPatterns(nil), ps...))
	}
	skip := func(rel string) bool {
		if rel == ".git" {
			return true
		}
		info, err := os.Lstat(filepath.Join(repo, filepath.FromSlash(rel)))
		return err == nil && !info.IsDir() && matcher.Match(strings.Split(rel, "/"), false)
	}
	return dst, copyTree(repo, dst, skip)
}

// sourceIgnore is the spec.ignore of the source ref names ("" when it
// declares none or is not built).
func sourceIgnore(ref string, objects []compare.Object) string {
	o := sourceObject(ref, objects)
	if o == nil {
		return ""
	}
	s, _ := o.Body["spec"].(map[string]any)
	ig, _ := s["ignore"].(string)
	return ig
}
