package build

import (
	"path/filepath"

	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// originIndex maps a built resource back to the file and line it came from.
//
// kustomize can annotate origins itself (buildMetadata: originAnnotations),
// but then it records every transformer on every resource, which made it
// the largest cost of a build. Instead slipway indexes the documents of the
// files the kustomizations list as resources, and finds a resource by its
// original ID (kind, name and namespace before prefixes and namespace
// transforms), which kustomize tracks anyway. Patch files are not indexed,
// so a patch never claims the object it patches.
type originIndex struct {
	repo   *source.Repository
	byKey  map[string]result.Origin // kind/namespace/name
	byName map[string]result.Origin // kind/name, first seen
	// fallback names the build's own kustomization file, for generated
	// resources (configMapGenerator, ...).
	fallback result.Origin
}

type kustomizationRefs struct {
	Resources []string `json:"resources"`
	Bases     []string `json:"bases"`
}

// newOriginIndex indexes the resource files listed by the kustomization
// files a build read (abs path -> content); readAsFile says which paths
// the build read as files (the others are asked of the filesystem).
func newOriginIndex(repo *source.Repository, kfiles map[string][]byte, readAsFile func(string) bool, fallback result.Origin) *originIndex {
	idx := &originIndex{repo: repo, byKey: map[string]result.Origin{}, byName: map[string]result.Origin{}, fallback: fallback}
	for kfile, data := range kfiles {
		var k kustomizationRefs
		if yaml.Unmarshal(data, &k) != nil {
			continue
		}
		dir := filepath.Dir(kfile)
		for _, list := range [][]string{k.Resources, k.Bases} {
			for _, r := range list {
				if source.IsRemote(r) {
					continue
				}
				p := r
				if !filepath.IsAbs(p) {
					p = filepath.Join(dir, r)
				}
				if !readAsFile(p) && repo.FS.IsDir(p) {
					continue // its own kustomization file is indexed
				}
				idx.addFile(p)
			}
		}
	}
	return idx
}

func (idx *originIndex) addFile(abs string) {
	docs, err := idx.repo.Documents(abs)
	if err != nil {
		return
	}
	rel := idx.repo.Rel(abs)
	for _, d := range docs {
		o := result.Origin{File: rel, Line: d.Line}
		k := d.Kind + "/" + d.Namespace + "/" + d.Name
		if _, ok := idx.byKey[k]; !ok {
			idx.byKey[k] = o
		}
		n := d.Kind + "/" + d.Name
		if _, ok := idx.byName[n]; !ok {
			idx.byName[n] = o
		}
	}
}

// locate returns where a resource came from, tree-relative.
func (idx *originIndex) locate(res *resource.Resource) result.Origin {
	id := res.OrgId()
	if o, ok := idx.byKey[id.Kind+"/"+id.Namespace+"/"+id.Name]; ok {
		return o
	}
	if o, ok := idx.byName[id.Kind+"/"+id.Name]; ok {
		return o
	}
	return idx.fallback
}
