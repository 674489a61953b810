package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// GitRef says which revision of a Git repository to fetch, as a Flux
// GitRepository's spec.ref does. Precedence follows source-controller:
// commit, then semver, then tag, then branch; none means branch master.
type GitRef struct {
	URL    string
	Branch string
	Tag    string
	SemVer string
	Commit string
	Name   string
	// Auth and SSH are the credentials the GitRepository's spec.secretRef
	// gives (GitAuthFromSecret); nil: none named.
	Auth *GitAuth
	SSH  *SSHAuth
}

// GitFetcher clones Git repositories with go-git into a cache directory,
// one checkout per resolved commit, shared by concurrent builds.
type GitFetcher struct {
	// CacheDir holds the checkouts; it survives runs so CI can cache it.
	CacheDir string
	// Credentials are the run's own, bound to their hosts (RunCredentials:
	// the GitHub token, for the run's GitHub host only). A source on any
	// other host gets only what its spec.secretRef gives (GitRef.Auth).
	Credentials HostCredentials
	// CABundle holds PEM certificates trusted for every fetch in addition
	// to the system's.
	CABundle []byte
	// Network says which addresses fetches may reach; the zero value
	// refuses the runner's own and metadata addresses (AddressPolicy).
	Network NetworkOptions

	guardOnce sync.Once
	guard     *guard
	fetches   fetchOnce
}

// GitError is a failure to fetch a Git source; it never includes
// credentials. Hint, when set, says how to give the source credentials.
type GitError struct {
	URL  string
	Err  error
	Hint string
}

func (e *GitError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("fetching %s: %v (%s)", e.URL, e.Err, e.Hint)
	}
	return fmt.Sprintf("fetching %s: %v", e.URL, e.Err)
}
func (e *GitError) Unwrap() error { return e.Err }

// Fetch returns a checkout of the resolved revision and the revision
// (branch@sha1:... as Flux spells it).
func (f *GitFetcher) Fetch(ctx context.Context, ref GitRef) (dir, revision string, err error) {
	installSafeGitHTTP()
	if err := checkGitURL(ref.URL); err != nil {
		return "", "", &GitError{URL: ref.URL, Err: err}
	}
	f.guardOnce.Do(func() { f.guard = newGuard(f.Network) })
	ctx = withGuard(ctx, f.guard)
	if IsSSHURL(ref.URL) {
		if err := checkSSHHost(ctx, f.Network.Policy, ref.URL); err != nil {
			return "", "", &GitError{URL: ref.URL, Err: err}
		}
	}
	auth, err := f.authFor(ref)
	if err != nil {
		return "", "", &GitError{URL: ref.URL, Err: err}
	}
	hash, refName, revision, err := f.resolve(ctx, ref, auth)
	if err != nil {
		return "", "", f.fetchError(ref.URL, auth, err)
	}
	key := cacheKey(ref.URL, hash)
	return f.fetches.do(key, func() (string, string, error) {
		dir, err := f.checkout(ctx, ref.URL, auth, refName, hash, key)
		if err != nil {
			err = f.fetchError(ref.URL, auth, err)
		}
		return dir, revision, err
	})
}

// withoutAnswer drops what the server answered from go-git's errors for
// 401, 403 and 404, which quote the response body whole: a server on the
// runner's network (a metadata service, an internal API) may answer with
// secrets. The sentinel says enough; go-git's other HTTP errors carry only
// the status code and the URL.
func withoutAnswer(err error) error {
	for _, s := range []error{transport.ErrAuthenticationRequired, transport.ErrAuthorizationFailed, transport.ErrRepositoryNotFound} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

func cacheKey(url, hash string) string {
	sum := sha256.Sum256([]byte(NormalizeURL(url)))
	return hex.EncodeToString(sum[:8]) + "-" + hash
}

// resolve turns a ref into a commit without cloning, by listing the remote.
func (f *GitFetcher) resolve(ctx context.Context, ref GitRef, auth fetchAuth) (hash string, name plumbing.ReferenceName, revision string, err error) {
	if ref.Commit != "" && ref.Branch == "" && ref.Tag == "" && ref.SemVer == "" && ref.Name == "" {
		return ref.Commit, "", "sha1:" + ref.Commit, nil
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{ref.URL}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth.method, CABundle: auth.caBundle, PeelingOption: git.AppendPeeled})
	if err != nil {
		return "", "", "", fmt.Errorf("listing refs: %w", withoutAnswer(err))
	}
	byName := map[plumbing.ReferenceName]string{}
	for _, r := range refs {
		if r.Type() == plumbing.HashReference {
			byName[r.Name()] = r.Hash().String()
		}
	}
	// Annotated tags: prefer the peeled commit (refs/tags/x^{}).
	for _, r := range refs {
		if strings.HasSuffix(r.Name().String(), "^{}") {
			byName[plumbing.ReferenceName(strings.TrimSuffix(r.Name().String(), "^{}"))] = r.Hash().String()
		}
	}
	switch {
	case ref.Name != "":
		name = plumbing.ReferenceName(ref.Name)
	case ref.SemVer != "":
		c, err := semver.NewConstraint(ref.SemVer)
		if err != nil {
			return "", "", "", fmt.Errorf("semver %q: %w", ref.SemVer, err)
		}
		var best *semver.Version
		var bestTag string
		for n := range byName {
			if !n.IsTag() {
				continue
			}
			v, err := semver.NewVersion(n.Short())
			if err != nil || !c.Check(v) {
				continue
			}
			if best == nil || v.GreaterThan(best) {
				best, bestTag = v, n.Short()
			}
		}
		if best == nil {
			return "", "", "", fmt.Errorf("no tag matches semver %q (tags: %s)", ref.SemVer, strings.Join(tagList(byName), ", "))
		}
		name = plumbing.NewTagReferenceName(bestTag)
	case ref.Tag != "":
		name = plumbing.NewTagReferenceName(ref.Tag)
	default:
		b := ref.Branch
		if b == "" {
			b = "master"
		}
		name = plumbing.NewBranchReferenceName(b)
	}
	h, ok := byName[name]
	if !ok {
		return "", "", "", fmt.Errorf("reference %s not found", name.Short())
	}
	if ref.Commit != "" && ref.Commit != h {
		// Flux checks out the commit on the branch; trust the commit.
		h = ref.Commit
	}
	return h, name, name.Short() + "@sha1:" + h, nil
}

func tagList(refs map[plumbing.ReferenceName]string) []string {
	var out []string
	for n := range refs {
		if n.IsTag() {
			out = append(out, n.Short())
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], "…")
	}
	return out
}

func (f *GitFetcher) checkout(ctx context.Context, url string, auth fetchAuth, name plumbing.ReferenceName, hash, key string) (string, error) {
	return cachedTree(f.CacheDir, key, ".fetch-", func(tmp string) (string, error) {
		opts := &git.CloneOptions{URL: url, Auth: auth.method, CABundle: auth.caBundle, Tags: git.NoTags}
		if name != "" {
			opts.ReferenceName = name
			opts.SingleBranch = true
		}
		repo, err := git.PlainCloneContext(ctx, tmp, false, opts)
		if err != nil {
			return "", fmt.Errorf("cloning: %w", withoutAnswer(err))
		}
		wt, err := repo.Worktree()
		if err != nil {
			return "", err
		}
		if err := wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(hash), Force: true}); err != nil {
			return "", fmt.Errorf("checking out %s: %w", hash, err)
		}
		// The checkout is data: drop .git so nothing treats it as a repository.
		return tmp, os.RemoveAll(filepath.Join(tmp, ".git"))
	})
}
