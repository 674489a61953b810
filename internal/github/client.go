package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"
)

// Options configure a Client.
type Options struct {
	// Token authenticates every request (GITHUB_TOKEN or a PAT).
	Token string
	// Repository is "owner/name".
	Repository string
	// APIURL is the REST API root; "" means https://api.github.com/.
	// GitHub Enterprise Server and tests set it (GITHUB_API_URL).
	APIURL string
	// HTTPClient is used for every request; nil means a client with a
	// 30 s timeout.
	HTTPClient *http.Client
	// MaxRetries bounds how often a rate-limited request, or one answered
	// with a server error, is retried.
	MaxRetries int
	// MaxRetryWait is the longest wait slipway accepts before a retry; a
	// limit that resets later makes it give up at once, since a deploy's
	// report is not worth holding a runner for an hour.
	MaxRetryWait time.Duration
	// Sleep waits; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultOptions returns the retry bounds slipway uses.
func DefaultOptions() Options {
	return Options{MaxRetries: 3, MaxRetryWait: 90 * time.Second}
}

// Client talks to one repository.
type Client struct {
	gh          *gh.Client
	owner, repo string
	opts        Options
}

// NewClient returns a Client for o.Repository.
func NewClient(o Options) (*Client, error) {
	owner, repo, ok := strings.Cut(o.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("github: repository %q: want owner/name", o.Repository)
	}
	if o.Token == "" {
		return nil, errors.New("github: no token (set the github-token input or GITHUB_TOKEN)")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c, err := NewAPI(hc, o.Token, o.APIURL)
	if err != nil {
		return nil, err
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	return &Client{gh: c, owner: owner, repo: repo, opts: o}, nil
}

// NewAPI returns a go-github client for token at apiURL ("" means
// api.github.com; GitHub Enterprise Server and Actions set GITHUB_API_URL).
func NewAPI(hc *http.Client, token, apiURL string) (*gh.Client, error) {
	c := gh.NewClient(hc).WithAuthToken(token)
	if apiURL != "" {
		base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("github: API URL %q: %w", apiURL, err)
		}
		c.BaseURL = base
	}
	return c, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// APIError is a request GitHub refused or that never got an answer.
type APIError struct {
	// Op says what was being done: `creating check run "slipway / clusters/a"`.
	Op string
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	Err    error
}

func (e *APIError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %v", e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Op, e.Err)
}

func (e *APIError) Unwrap() error { return e.Err }

// RateLimitedError says slipway gave up on a request after GitHub's rate
// limits refused it MaxRetries times or asked for a longer wait than
// MaxRetryWait.
type RateLimitedError struct {
	Op string
	// Wait is what GitHub asked for last.
	Wait time.Duration
	Err  error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("%s: rate limited by GitHub (asked to wait %s), gave up: %v", e.Op, e.Wait.Round(time.Second), e.Err)
}

func (e *RateLimitedError) Unwrap() error { return e.Err }

// IsForbidden reports whether GitHub refused a request for lack of
// permission: a read-only token (pull requests from forks), or a workflow
// without `checks: write` / `statuses: write` / `pull-requests: write`.
// Rate limits are not "forbidden", although they also answer 403.
func IsForbidden(err error) bool {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return false
	}
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound)
}

// call runs one request, retrying rate-limit answers and server errors a
// bounded number of times. go-github reports them as typed errors and never
// retries itself. (github.com/gofri/go-github-ratelimit would do the
// rate-limit half as a transport, but it is not available from the module
// proxy here; this is a dozen lines.)
func (c *Client) call(ctx context.Context, op string, do func() (*gh.Response, error)) error {
	for attempt := 0; ; attempt++ {
		resp, err := do()
		if err == nil {
			return nil
		}
		var wait time.Duration
		var limited bool
		var rle *gh.RateLimitError
		var abuse *gh.AbuseRateLimitError
		switch {
		case errors.As(err, &rle):
			limited, wait = true, time.Until(rle.Rate.Reset.Time)+time.Second
		case errors.As(err, &abuse):
			limited, wait = true, abuse.GetRetryAfter()
			if wait <= 0 {
				// Secondary limits without Retry-After: GitHub asks for
				// at least a minute.
				wait = time.Minute
			}
		}
		if limited {
			if attempt >= c.opts.MaxRetries || wait > c.opts.MaxRetryWait {
				return &RateLimitedError{Op: op, Wait: wait, Err: err}
			}
			if serr := c.opts.Sleep(ctx, max(wait, 0)); serr != nil {
				return &APIError{Op: op, Err: serr}
			}
			continue
		}
		status := 0
		if resp != nil && resp.Response != nil {
			status = resp.StatusCode
		}
		// GitHub answers 5xx now and then (502 under load, 503 during
		// incidents); they pass. Back off 1 s, 2 s, 4 s within MaxRetries.
		if status >= 500 && attempt < c.opts.MaxRetries {
			if serr := c.opts.Sleep(ctx, time.Second<<attempt); serr != nil {
				return &APIError{Op: op, Err: serr}
			}
			continue
		}
		return &APIError{Op: op, Status: status, Err: err}
	}
}
