package githubtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Fault is an answer the server gives instead of GitHub's logic, for the
// requests it selects: how GitHub behaves under load, during an outage or
// when it refuses. Build one with the helpers below or by hand.
type Fault struct {
	// Method selects requests by HTTP method; "" selects any.
	Method string
	// Path is a regular expression the URL path must match, e.g.
	// `/check-runs/\d+$`; "" selects any.
	Path string
	// Times is how many selected requests get the fault; 0 means all.
	Times int
	// Status is the answer. 0 serves the request normally (after Block
	// is released, if set): a Fault{Times: 1} injected first lets the
	// first selected request through to the ones injected after it.
	Status int
	// Message and DocumentationURL make GitHub's error body.
	Message, DocumentationURL string
	// Header is added to the answer (Retry-After, X-RateLimit-*).
	Header map[string]string
	// Block, when set, holds selected requests until it is closed or the
	// client gives up (a request that never gets an answer).
	Block <-chan struct{}
}

// Injection is an injected Fault; it counts the requests it answered.
type Injection struct {
	s     *Server
	fault Fault
	re    *regexp.Regexp
	hits  int
}

// Hits returns how many requests the fault has selected so far.
func (in *Injection) Hits() int {
	in.s.mu.Lock()
	defer in.s.mu.Unlock()
	return in.hits
}

// Inject adds a fault; faults are tried in the order injected and the
// first that selects a request answers it.
func (s *Server) Inject(f Fault) *Injection {
	in := &Injection{s: s, fault: f}
	if f.Path != "" {
		in.re = regexp.MustCompile(f.Path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, in)
	return in
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// fault returns the fault selecting r, counting it, or nil. Requests
// without a known token are never faulted: GitHub checks credentials
// first.
func (s *Server) fault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, known := s.tokens[token(r)]; !known {
		return nil
	}
	for _, in := range s.faults {
		f := &in.fault
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if in.re != nil && !in.re.MatchString(r.URL.Path) {
			continue
		}
		if f.Times > 0 && in.hits >= f.Times {
			continue
		}
		in.hits++
		return f
	}
	return nil
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
}

func (s *Server) answerFault(w http.ResponseWriter, f *Fault) {
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	body := map[string]string{"message": msg}
	if f.DocumentationURL != "" {
		body["documentation_url"] = f.DocumentationURL
	}
	_ = json.NewEncoder(w).Encode(body)
}

// secondaryDocs is the documentation URL GitHub sends with a secondary
// rate limit; go-github recognises the limit by it.
const secondaryDocs = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// SecondaryRateLimit is GitHub's documented secondary rate limit: 403,
// Retry-After and the documentation URL.
func SecondaryRateLimit(method, path string, times, retryAfterSeconds int) Fault {
	return Fault{
		Method: method, Path: path, Times: times, Status: http.StatusForbidden,
		Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
		DocumentationURL: secondaryDocs,
		Header:           map[string]string{"Retry-After": strconv.Itoa(retryAfterSeconds)},
	}
}

// TooManyRequests is a 429 with Retry-After and a body that does not name
// secondary limits, which go-github reports as a plain ErrorResponse.
func TooManyRequests(method, path string, times, retryAfterSeconds int) Fault {
	return Fault{
		Method: method, Path: path, Times: times, Status: http.StatusTooManyRequests,
		Message: "Too Many Requests",
		Header:  map[string]string{"Retry-After": strconv.Itoa(retryAfterSeconds)},
	}
}

// PrimaryRateLimit is the answer once a token's hourly requests are
// spent: 403, x-ratelimit-remaining 0 and the reset time.
func PrimaryRateLimit(method, path string, times int, reset time.Time) Fault {
	return Fault{
		Method: method, Path: path, Times: times, Status: http.StatusForbidden,
		Message:          "API rate limit exceeded for installation.",
		DocumentationURL: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
		Header: map[string]string{
			"X-RateLimit-Limit":     "1000",
			"X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset":     strconv.FormatInt(reset.Unix(), 10),
		},
	}
}

// Refuse answers status (422, 403, …) with message.
func Refuse(method, path string, times, status int, message string) Fault {
	return Fault{Method: method, Path: path, Times: times, Status: status, Message: message}
}

// Paths of the endpoints slipway calls, for Fault.Path.
const (
	PathCheckRuns = `/check-runs$`
	PathCheckRun  = `/check-runs/\d+$`
	PathStatuses  = `/statuses/[0-9a-f]{40}$`
	PathComments  = `/issues/(\d+/)?comments(/\d+)?$`
)
