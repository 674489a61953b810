package build

import (
	"path/filepath"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"sigs.k8s.io/kustomize/api/resource"
)

// originAnnotation is kustomize's build annotation naming a resource's file.
const originAnnotation = "config.kubernetes.io/origin"

// locate maps a built resource back to the file and line it came from:
// kustomize's origin annotation gives the file (relative to the build
// directory); the resource's original ID, before name prefixes and
// namespace transforms, finds its document in that file.
func locate(repo *source.Repository, srcRoot, dirPath string, res *resource.Resource) result.Origin {
	o, err := res.GetOrigin()
	if err != nil || o == nil {
		return result.Origin{}
	}
	file := o.Path
	if file == "" {
		file = o.ConfiguredIn
	}
	if file == "" || o.Repo != "" {
		return result.Origin{File: o.Repo + "//" + o.Path}
	}
	abs := filepath.Clean(filepath.Join(dirPath, filepath.FromSlash(file)))
	rel, ok := relTo(srcRoot, abs)
	if !ok {
		return result.Origin{File: filepath.ToSlash(file)}
	}
	origin := result.Origin{File: rel}
	if o.Path == "" {
		// Generated (configMapGenerator, ...): point at the kustomization.
		return origin
	}
	docs, err := repo.Documents(abs)
	if err != nil {
		return origin
	}
	id := res.OrgId()
	line := 0
	for _, d := range docs {
		if d.Kind != id.Kind {
			continue
		}
		if d.Name == id.Name {
			return result.Origin{File: rel, Line: d.Line}
		}
		if line == 0 {
			line = d.Line
		}
	}
	if len(docs) == 1 {
		line = docs[0].Line
	}
	origin.Line = line
	return origin
}

func relTo(root, abs string) (string, bool) {
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
