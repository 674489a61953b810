package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// fetchedTree returns the tree slipway read a Kustomization's source from
// when it was not this repository's checkout, so the Flux CLI can build
// the same files (with --path pointing into it, as `flux build ks
// --local-sources` would map the source): an OCIRepository's extracted
// layer or a Bucket's objects in slipway's cache, another repository's
// clone in it, or a commit of this repository (another ref) extracted
// from its Git objects. "" with a reason when it cannot be found; an
// ExternalArtifact is assembled by slipway in a temporary tree and never
// compared.
func fetchedTree(repo, tmp, cache, source, path string) (string, string) {
	kind, _, _ := strings.Cut(source, "/")
	_, rev, ok := strings.Cut(source, "@")
	if !ok && kind != "ExternalArtifact" {
		return "", "no revision in " + source
	}
	switch kind {
	case "GitRepository":
		i := strings.LastIndex(rev, "sha1:")
		if i < 0 {
			return "", "no commit in " + source
		}
		commit := rev[i+len("sha1:"):]
		if dirs := cached(cache, "git", "*-"+commit); len(dirs) == 1 {
			return dirs[0], ""
		}
		return commitTree(repo, tmp, commit)
	case "OCIRepository":
		return oneHolding(cached(cache, "oci", "oci-*"), path, source)
	case "Bucket":
		return oneHolding(cached(cache, "bucket", "bucket-*"), path, source)
	}
	return "", kind + " trees are assembled by slipway in a temporary directory"
}

// cached lists slipway's cache entries of one kind.
func cached(cache, kind, pattern string) []string {
	dirs, _ := filepath.Glob(filepath.Join(cache, kind, pattern))
	return dirs
}

// oneHolding picks the cached tree holding path: the cache is the
// harness's own (one run), so several candidates mean several artifacts
// with that path, and guessing would compare the wrong files.
func oneHolding(dirs []string, path, source string) (string, string) {
	var hits []string
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(d, filepath.FromSlash(path))); err == nil && st.IsDir() {
			hits = append(hits, d)
		}
	}
	if len(hits) != 1 {
		return "", fmt.Sprintf("%d trees in slipway's cache hold %s for %s", len(hits), path, source)
	}
	return hits[0], ""
}

// commitTree extracts a commit of repo (git archive) into tmp, once.
func commitTree(repo, tmp, commit string) (string, string) {
	dst := filepath.Join(tmp, "commit-"+commit)
	if _, err := os.Stat(dst); err == nil {
		return dst, ""
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err.Error()
	}
	archive := exec.Command("git", "-C", repo, "archive", "--format=tar", commit)
	untar := exec.Command("tar", "-x", "-C", dst)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err.Error()
	}
	untar.Stdin = pipe
	var errb strings.Builder
	archive.Stderr = &errb
	if err := untar.Start(); err != nil {
		return "", err.Error()
	}
	aerr := archive.Run()
	uerr := untar.Wait()
	if aerr != nil || uerr != nil {
		_ = os.RemoveAll(dst)
		return "", fmt.Sprintf("commit %s is not in %s: %v %s", commit, repo, aerr, strings.TrimSpace(errb.String()))
	}
	return dst, ""
}
