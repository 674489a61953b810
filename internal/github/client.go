package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	// RetryBudget bounds the time one Client spends waiting to retry,
	// summed over all its requests: a run makes dozens of requests, and
	// a per-request bound alone would let an outage or a rate limit hold
	// the runner for many minutes. Zero means the default; negative
	// means never wait.
	RetryBudget time.Duration
	// FailureThreshold is how many requests in a row may go unanswered
	// or be answered with a server error before the Client stops calling
	// GitHub and fails fast with UnavailableError. Zero means the
	// default.
	FailureThreshold int
	// Sleep waits; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultOptions returns the retry bounds slipway uses.
func DefaultOptions() Options {
	return Options{
		MaxRetries:   3,
		MaxRetryWait: 90 * time.Second,
		// A deploy's report is worth a few minutes at most: beyond that
		// the job summary and the log carry it.
		RetryBudget: 3 * time.Minute,
		// One request retried MaxRetries times and the first try of the
		// next: an outage is given up on after about 7 s of backoff
		// instead of 7 s per request.
		FailureThreshold: 5,
	}
}

// Client talks to one repository. It is safe for concurrent use.
type Client struct {
	gh          *gh.Client
	owner, repo string
	opts        Options

	mu sync.Mutex
	// waited is the part of RetryBudget spent.
	waited time.Duration
	// failures counts requests in a row without a usable answer.
	failures int
	// down is set once failures reached FailureThreshold; every later
	// request fails with it, without calling GitHub.
	down *UnavailableError
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
	def := DefaultOptions()
	if o.RetryBudget == 0 {
		o.RetryBudget = def.RetryBudget
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = def.FailureThreshold
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

// RateLimitedError says slipway gave up on a request that GitHub's rate
// limits refused: MaxRetries times, or asking for a longer wait than
// MaxRetryWait or than what is left of RetryBudget.
type RateLimitedError struct {
	Op string
	// Wait is what GitHub asked for last.
	Wait time.Duration
	// Reason says why slipway did not wait.
	Reason string
	Err    error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("%s: rate limited by GitHub (asked to wait %s; %s): %v", e.Op, e.Wait.Round(time.Second), e.Reason, e.Err)
}

func (e *RateLimitedError) Unwrap() error { return e.Err }

// UnavailableError says the Client stopped calling GitHub after Failures
// requests in a row got no answer or a server error: during an outage,
// retrying every remaining request (each with its own backoff) would hold
// the runner for minutes and report nothing more. Every request after the
// first such error fails with one, at once.
type UnavailableError struct {
	// Op is the request refused without calling GitHub.
	Op       string
	Failures int
	// Err is the last failure seen from GitHub.
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s: not sent: the GitHub API failed %d times in a row, slipway stopped calling it (last: %v)", e.Op, e.Failures, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

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

// IsUnavailable reports whether err says the Client stopped calling
// GitHub (see UnavailableError).
func IsUnavailable(err error) bool {
	var ue *UnavailableError
	return errors.As(err, &ue)
}

// verdict is what a failed request calls for.
type verdict int

const (
	// refused: GitHub answered no (4xx); asking again gets the same.
	refused verdict = iota
	// limited: a rate limit; wait as told, then retry.
	limited
	// transient: a server error or no answer; back off and retry, and
	// count it towards FailureThreshold.
	transient
)

// defaultLimitWait is GitHub's advice when a rate-limit answer says
// nothing about when to come back: wait at least a minute.
const defaultLimitWait = time.Minute

// classify reads go-github's typed errors, never the message text:
// RateLimitError is a primary limit (x-ratelimit-remaining: 0),
// AbuseRateLimitError a secondary one (the documented body), and a bare
// ErrorResponse of 429, or of 403 with Retry-After, is a secondary limit
// go-github did not recognise because the body did not name it.
func classify(err error, resp *gh.Response) (v verdict, wait time.Duration, status int) {
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}
	var rle *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rle):
		if rle.Rate.Reset.IsZero() {
			return limited, defaultLimitWait, status
		}
		// The reset time has a one-second resolution.
		return limited, time.Until(rle.Rate.Reset.Time) + time.Second, status
	case errors.As(err, &abuse):
		if d := abuse.GetRetryAfter(); d > 0 {
			return limited, d, status
		}
		return limited, defaultLimitWait, status
	case errors.As(err, &er) && er.Response != nil:
		status = er.Response.StatusCode
		retryAfter, hasRetryAfter := parseRetryAfter(er.Response.Header)
		switch {
		case status == http.StatusTooManyRequests && hasRetryAfter:
			return limited, retryAfter, status
		case status == http.StatusTooManyRequests:
			return limited, defaultLimitWait, status
		case status == http.StatusForbidden && hasRetryAfter:
			return limited, retryAfter, status
		case status >= 500:
			return transient, 0, status
		}
		return refused, 0, status
	case status >= 500 || status == 0:
		return transient, 0, status
	}
	return refused, 0, status
}

// parseRetryAfter reads Retry-After in seconds (GitHub never sends the
// HTTP-date form).
func parseRetryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// call runs one request, retrying rate limits and transient failures a
// bounded number of times within the Client's RetryBudget, and stops
// calling GitHub altogether after FailureThreshold transient failures in
// a row. go-github reports limits as typed errors and never retries
// itself. (github.com/gofri/go-github-ratelimit would do the rate-limit
// half as a transport, but it is not available from the module proxy
// here.)
func (c *Client) call(ctx context.Context, op string, do func() (*gh.Response, error)) error {
	for attempt := 0; ; attempt++ {
		if err := c.unavailable(op); err != nil {
			return err
		}
		resp, err := do()
		if err == nil {
			c.answered()
			return nil
		}
		if ctx.Err() != nil {
			// Cancelled here, not GitHub's failure.
			return &APIError{Op: op, Err: err}
		}
		v, wait, status := classify(err, resp)
		switch v {
		case limited:
			c.answered()
			if reason := c.refuseWait(attempt, wait); reason != "" {
				return &RateLimitedError{Op: op, Wait: wait, Reason: reason, Err: err}
			}
		case transient:
			if down := c.failed(op, err); down != nil {
				return down
			}
			// GitHub answers 5xx now and then (502 under load, 503
			// during incidents); they pass. Back off 1 s, 2 s, 4 s.
			wait = time.Second << attempt
			if attempt >= c.opts.MaxRetries || c.refuseWait(attempt, wait) != "" {
				return &APIError{Op: op, Status: status, Err: err}
			}
		default:
			c.answered()
			return &APIError{Op: op, Status: status, Err: err}
		}
		if serr := c.opts.Sleep(ctx, max(wait, 0)); serr != nil {
			return &APIError{Op: op, Err: serr}
		}
	}
}

// refuseWait says why the Client will not wait d before retry attempt+1,
// or "" after charging d to the budget.
func (c *Client) refuseWait(attempt int, d time.Duration) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case attempt >= c.opts.MaxRetries:
		return fmt.Sprintf("retried %d times", attempt)
	case d > c.opts.MaxRetryWait:
		return fmt.Sprintf("longer than the %s slipway waits", c.opts.MaxRetryWait)
	case c.waited+d > c.opts.RetryBudget:
		return fmt.Sprintf("the %s slipway may spend waiting on GitHub are spent", max(c.opts.RetryBudget, 0))
	}
	c.waited += max(d, 0)
	return ""
}

// answered records that GitHub answered, even with a refusal: the API is
// up.
func (c *Client) answered() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = 0
}

// failed records a transient failure and returns the UnavailableError once
// FailureThreshold failures came in a row.
func (c *Client) failed(op string, err error) *UnavailableError {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures++
	if c.failures >= c.opts.FailureThreshold && c.down == nil {
		c.down = &UnavailableError{Op: op, Failures: c.failures, Err: err}
	}
	return c.down
}

// unavailable returns an UnavailableError for op once GitHub is deemed
// down.
func (c *Client) unavailable(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down == nil {
		return nil
	}
	return &UnavailableError{Op: op, Failures: c.down.Failures, Err: c.down.Err}
}
