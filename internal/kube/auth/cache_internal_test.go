package auth

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

type countingSource struct {
	n   int
	ttl time.Duration
	now *time.Time
	err error
}

func (c *countingSource) Token() (*oauth2.Token, error) {
	if c.err != nil {
		return nil, c.err
	}
	c.n++
	return &oauth2.Token{AccessToken: "t", Expiry: c.now.Add(c.ttl)}, nil
}

// A token is reused until refreshBefore its expiry, then replaced; a 401
// drops it; a failed refresh is an error, not the old token.
func TestCachedTokenSourceRefreshes(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	base := &countingSource{ttl: 5 * time.Minute, now: &now}
	c := newCachedTokenSource(base, time.Minute)
	c.now = func() time.Time { return now }
	get := func() {
		t.Helper()
		if _, err := c.Token(); err != nil {
			t.Fatal(err)
		}
	}
	get()
	now = now.Add(3*time.Minute + 59*time.Second)
	get()
	if base.n != 1 {
		t.Fatalf("refreshed %d times before the margin", base.n-1)
	}
	now = now.Add(2 * time.Second)
	get()
	if base.n != 2 {
		t.Fatalf("not refreshed inside the margin: %d", base.n)
	}
	c.ResetTokenOlderThan(now.Add(time.Second))
	get()
	if base.n != 3 {
		t.Fatalf("not refreshed after a 401: %d", base.n)
	}
	base.err = errors.New("runner down")
	now = now.Add(10 * time.Minute)
	if _, err := c.Token(); err == nil {
		t.Fatal("an expired token was returned when the refresh failed")
	}
}
