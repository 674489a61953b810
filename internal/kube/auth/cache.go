package auth

import (
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultRefreshBefore is how long before its expiry a token is replaced.
// A deploy that waits for rollouts can outlast one token; asking for a new
// one a minute early keeps a request in flight from carrying a token that
// expires on the way (client-go's own cache allows 10 seconds).
const DefaultRefreshBefore = time.Minute

// cachedTokenSource hands out the same token until refreshBefore its
// expiry, and drops it when the API server answered 401 to it
// (client-go's ResettableTokenSource).
type cachedTokenSource struct {
	base          oauth2.TokenSource
	refreshBefore time.Duration
	now           func() time.Time

	mu      sync.Mutex
	tok     *oauth2.Token
	fetched time.Time
}

func newCachedTokenSource(base oauth2.TokenSource, refreshBefore time.Duration) *cachedTokenSource {
	if refreshBefore <= 0 {
		refreshBefore = DefaultRefreshBefore
	}
	return &cachedTokenSource{base: base, refreshBefore: refreshBefore, now: time.Now}
}

// Token returns the cached token or a new one. Unlike client-go's cache
// it does not fall back to an expiring token when the refresh fails: the
// error says why (a revoked permission, an outage) where a 401 would not.
func (c *cachedTokenSource) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.tok != nil && now.Add(c.refreshBefore).Before(c.tok.Expiry) {
		return c.tok, nil
	}
	tok, err := c.base.Token()
	if err != nil {
		return nil, err
	}
	c.tok, c.fetched = tok, now
	return tok, nil
}

// ResetTokenOlderThan drops a token fetched before t.
func (c *cachedTokenSource) ResetTokenOlderThan(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetched.Before(t) {
		c.tok = nil
	}
}
