package source

import (
	"fmt"
	"path"
	"sort"
)

// ClustersDir is where cluster paths live by convention.
const ClustersDir = "clusters"

// ClusterPaths returns the cluster paths to build: the given ones, checked,
// or every directory directly under clusters/ when none is given.
func (r *Repository) ClusterPaths(paths []string) ([]string, error) {
	if r.lazy != nil && !r.lazy.ready.Load() {
		if out, ok := r.clusterPathsFromTree(paths); ok {
			return out, nil
		}
	}
	if len(paths) == 0 {
		dir := r.join(ClustersDir)
		if !r.FS.IsDir(dir) {
			return nil, &PathError{Path: ClustersDir, Reason: "no clusters/ directory in the repository; name the cluster paths with --path"}
		}
		entries, err := r.FS.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", ClustersDir, err)
		}
		for _, e := range entries {
			if r.FS.IsDir(r.join(ClustersDir + "/" + e)) {
				paths = append(paths, ClustersDir+"/"+e)
			}
		}
		if len(paths) == 0 {
			return nil, &PathError{Path: ClustersDir, Reason: "contains no cluster directories"}
		}
		sort.Strings(paths)
		return paths, nil
	}
	out := make([]string, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		clean, err := CleanRelative(p)
		if err != nil {
			return nil, err
		}
		if !r.FS.Exists(r.join(clean)) {
			return nil, &PathError{Path: p, Reason: "does not exist in the repository"}
		}
		if !r.FS.IsDir(r.join(clean)) {
			return nil, &PathError{Path: p, Reason: "is not a directory"}
		}
		if !seen[clean] {
			seen[clean] = true
			out = append(out, clean)
		}
	}
	return out, nil
}

func (r *Repository) join(rel string) string {
	abs, err := r.Abs(rel)
	if err != nil {
		return r.Root + "/\x00invalid"
	}
	return abs
}

// clusterPathsFromTree answers ClusterPaths from a revision's tree without
// writing it, when the answer is plain: every path named, or every entry
// of clusters/, a directory of the tree (so no symlink is involved). ok is
// false otherwise, for ClusterPaths to ask the filesystem, errors included.
func (r *Repository) clusterPathsFromTree(paths []string) (out []string, ok bool) {
	if len(paths) == 0 {
		if !r.dirs[ClustersDir] {
			return nil, false
		}
		for d := range r.dirs {
			if path.Dir(d) == ClustersDir {
				out = append(out, d)
			}
		}
		for f := range r.links {
			if path.Dir(f) == ClustersDir {
				return nil, false
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		sort.Strings(out)
		return out, true
	}
	seen := map[string]bool{}
	for _, p := range paths {
		clean, err := CleanRelative(p)
		if err != nil || !r.dirs[clean] {
			return nil, false
		}
		if !seen[clean] {
			seen[clean] = true
			out = append(out, clean)
		}
	}
	return out, true
}
