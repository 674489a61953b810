package build

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/slipwayhq/slipway/internal/result"
)

// RunOptions are what BuildPaths needs beyond a Builder's Options: where
// the build cache lives.
type RunOptions struct {
	Options
	// CacheDir holds reusable builds between runs (--cache-dir/builds, or
	// the action's cache-dir input); "" builds everything.
	CacheDir string
	// Identity names the binary: a cache written by another one is ignored
	// (see BinaryIdentity).
	Identity string
	// Then, when set, runs on each cluster path's build as soon as it is
	// built (validation), concurrently with the other paths' builds and
	// with the cache being written; it must not modify the objects.
	// BuildPaths returns once every call has returned.
	Then func(*result.ClusterBuild)
}

// BuildPaths builds the cluster paths of opts.Repo, reusing what the build
// cache holds for unchanged files and refreshing it afterwards. It is the
// one way the CLI and the GitHub Action build, so both get the same
// builds, and the same speed from a restored cache.
func BuildPaths(ctx context.Context, paths []string, o RunOptions) ([]*result.ClusterBuild, error) {
	opts := o.Options
	// Remote bases are fetched, not read from files the cache can watch.
	var cache *BuildCache
	if o.CacheDir != "" && !opts.AllowRemoteBases {
		cache = &BuildCache{Dir: o.CacheDir, Repo: opts.Repo, Version: o.Identity}
		opts.Reuse = cache.Load(paths)
	}
	b, err := New(opts)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	// Each cluster path's cache file is written, and o.Then run, as soon
	// as the path is built: the last paths' builds, writing the cache and
	// validating, one after another, left a core idle at the end of a
	// cold validate.
	builds := b.buildAll(ctx, paths, func(cb *result.ClusterBuild) {
		var wg sync.WaitGroup
		if cache != nil && ctx.Err() == nil {
			// The cache only saves time: failing to write it fails nothing.
			wg.Go(func() { _ = cache.save(opts.Reuse.Record, cb.Path) })
		}
		if o.Then != nil {
			o.Then(cb)
		}
		wg.Wait()
	})
	if err := ctx.Err(); err != nil {
		return builds, fmt.Errorf("interrupted: %w", err)
	}
	return builds, nil
}

// BinaryIdentity names this binary for the build cache: its version, and —
// since development builds share a version — its size and time, so a
// rebuilt binary never reuses what an older one built.
func BinaryIdentity(version string) string {
	id := version
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			id += fmt.Sprintf("/%d/%d", st.Size(), st.ModTime().UnixNano())
		}
	}
	return id
}
