package helm

import (
	"slices"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"helm.sh/helm/v4/pkg/registry"
)

// registryClient is a registry client whose answers (tag lists, tag
// resolutions) are remembered for the Renderer's lifetime, failures
// included: every HelmRelease of a run asking an unreachable registry
// for the same chart used to wait through its own timeout, seconds each.
// The second one now gets the first one's error at once, told as its own
// source's error at its own file and line. Charts themselves are pulled
// once per digest by the chart cache, which remembers failures the same
// way, as does the index of an HTTP repository.
type registryClient struct {
	*registry.Client
	// id is the host, the transport and the credentials, hashed: a source
	// with other credentials may get another answer.
	id   string
	memo *registryMemo
}

// registryMemo holds a Renderer's remembered registry answers.
type registryMemo struct {
	tags    flight[[]string]
	resolve flight[ocispec.Descriptor]
}

func newRegistryClient(c *registry.Client, memo *registryMemo, host string, plainHTTP bool, creds credentials) *registryClient {
	user, pass := creds.forHost(host)
	return &registryClient{Client: c, memo: memo, id: keyOf(host, strconv.FormatBool(plainHTTP), user, pass)}
}

// Tags lists a repository's tags once per run; callers get their own copy
// to filter.
func (c *registryClient) Tags(ref string) ([]string, error) {
	tags, err := c.memo.tags.do(c.id+"\x00"+ref, func() ([]string, error) { return c.Client.Tags(ref) })
	return slices.Clone(tags), err
}

// Resolve resolves a tag or digest reference once per run.
func (c *registryClient) Resolve(ref string) (ocispec.Descriptor, error) {
	return c.memo.resolve.do(c.id+"\x00"+ref, func() (ocispec.Descriptor, error) { return c.Client.Resolve(ref) })
}
