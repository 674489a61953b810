package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/internal/github"
)

// Permissions of a token, as a workflow's `permissions:` grants them.
type Permissions struct {
	Checks, Statuses, PullRequests bool
	// Deployments and Issues are `deployments: write` and `issues: write`.
	Deployments, Issues bool
}

// WriteAll grants everything slipway uses.
var WriteAll = Permissions{Checks: true, Statuses: true, PullRequests: true, Deployments: true, Issues: true}

// ReadOnly is a fork pull request's token.
var ReadOnly = Permissions{}

// Request is one recorded request.
type Request struct {
	Method, Path string
	Body         string
	// Status is the answer's; 0 when the client gave up first.
	Status int
	// Injected says a Fault answered, not the fake's GitHub logic.
	Injected bool
}

// Annotation is a stored check-run annotation.
type Annotation struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	Level     string `json:"annotation_level"`
	Title     string `json:"title"`
	Message   string `json:"message"`
}

// CheckRun is a stored check run.
type CheckRun struct {
	ID                   int64
	Name, HeadSHA        string
	Status, Conclusion   string
	Title, Summary, Text string
	Annotations          []Annotation
	// AnnotationRequests counts requests that carried annotations.
	AnnotationRequests int
}

// Status is a stored commit status.
type Status struct {
	SHA, Context, State, Description, TargetURL string
}

// Comment is a stored issue comment.
type Comment struct {
	ID     int64
	Number int
	Body   string
}

// Server is a fake GitHub API. Create it with New.
type Server struct {
	*httptest.Server
	// Owner and Repo name the one repository the server knows.
	Owner, Repo string

	mu        sync.Mutex
	tokens    map[string]Permissions
	nextID    int64
	checkRuns map[int64]*CheckRun
	statuses  []Status
	comments  []*Comment
	requests  []Request
	faults    []*Injection
	// schemas are GitHub's request-body schemas (openapi.go).
	schemas   map[string]*schema
	schemaErr error
	// repos serves the repository, environment and secret endpoints
	// (repos.go); nil until first used.
	repos *reposState
	// deployments and issues (deployments.go), in creation order.
	deployments []*Deployment
	issues      []*Issue
}

// New starts a server for owner/repo; stop it with Close.
func New(owner, repo string) *Server {
	s := &Server{Owner: owner, Repo: repo, tokens: map[string]Permissions{}, checkRuns: map[int64]*CheckRun{}, nextID: 1000}
	s.schemas, s.schemaErr = requestSchemas()
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddToken makes token valid with the given permissions.
func (s *Server) AddToken(token string, p Permissions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = p
}

// RateLimitNext answers the next n requests with a secondary rate limit:
// 403, Retry-After seconds and GitHub's documentation URL, which is how
// go-github recognises it.
func (s *Server) RateLimitNext(n, retryAfterSeconds int) {
	s.Inject(SecondaryRateLimit("", "", n, retryAfterSeconds))
}

// FailNext answers the next n requests with status (a 5xx), as GitHub
// does now and then.
func (s *Server) FailNext(n, status int) {
	s.Inject(Fault{Times: n, Status: status})
}

// AddComment stores a comment as if someone had written it.
func (s *Server) AddComment(number int, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.comments = append(s.comments, &Comment{ID: s.nextID, Number: number, Body: body})
	return s.nextID
}

// Requests returns every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CheckRuns returns the check runs, in creation order.
func (s *Server) CheckRuns() []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range s.checkRuns {
		c := *cr
		c.Annotations = slices.Clone(cr.Annotations)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b CheckRun) int { return int(a.ID - b.ID) })
	return out
}

// Statuses returns the commit statuses, oldest first.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// Comments returns the comments of issue number, oldest first.
func (s *Server) Comments(number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Number == number {
			out = append(out, *c)
		}
	}
	return out
}

var (
	reCheckRuns  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs$`)
	reCheckRun   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs/(\d+)$`)
	reStatuses   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]{40})$`)
	reComments   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`)
	reComment    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$`)
	conclusions  = []string{"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"}
	checkStatus  = []string{"queued", "in_progress", "completed"}
	levels       = []string{"notice", "warning", "failure"}
	statusStates = []string{"error", "failure", "pending", "success"}
)

type httpError struct {
	status int
	msg    string
	// errors are GitHub's "errors" of a 422 Validation Failed.
	errors []fieldError
}

// fieldError is one entry of a 422's "errors", as GitHub sends them.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message"`
}

func fail(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// tooManyBytes is GitHub's answer to a check-run text over its byte limit
// (github/docs#35252): it counts bytes, although its documentation says
// characters.
func tooManyBytes(field string, limit int) *httpError {
	return &httpError{status: http.StatusUnprocessableEntity, msg: "Validation Failed", errors: []fieldError{{
		Resource: "CheckRun", Code: "custom", Field: field,
		Message: fmt.Sprintf("%s exceeds a maximum bytesize of %d", field, limit),
	}}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Body: string(body)}
	if f := s.fault(r); f != nil {
		rec.Injected = true
		// Held outside the lock, so other requests are served meanwhile.
		if f.Block != nil {
			select {
			case <-f.Block:
			case <-r.Context().Done():
				s.record(rec)
				return
			}
		}
		if f.Status != 0 {
			rec.Status = f.Status
			s.record(rec)
			s.answerFault(w, f)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, resp, hdr := s.handle(r, body)
	rec.Status = status
	s.requests = append(s.requests, rec)
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if resp != nil {
		_ = json.NewEncoder(w).Encode(resp)
	}
}

// token is the request's API token, "" without one.
func token(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return t
	}
	t, _ := strings.CutPrefix(auth, "token ")
	return t
}

func (s *Server) handle(r *http.Request, body []byte) (int, any, map[string]string) {
	errResp := func(e *httpError) (int, any, map[string]string) {
		out := map[string]any{"message": e.msg, "documentation_url": "https://docs.github.com/rest"}
		if e.errors != nil {
			out["errors"] = e.errors
		}
		return e.status, out, nil
	}
	token := token(r)
	perms, known := s.tokens[token]
	if !known {
		return errResp(fail(http.StatusUnauthorized, "Bad credentials"))
	}
	if status, out, hdr, e, ok := s.handleRepos(r, body, token); ok {
		if e != nil {
			return errResp(e)
		}
		return status, out, hdr
	}
	if status, out, e, ok := s.handleDeploymentsAndIssues(r, body, perms); ok {
		if e != nil {
			return errResp(e)
		}
		return status, out, nil
	}
	p := r.URL.Path
	repoOK := func(m []string) bool { return m[1] == s.Owner && m[2] == s.Repo }
	var e *httpError
	var out any
	status := http.StatusOK
	switch {
	case reCheckRuns.MatchString(p) && r.Method == http.MethodPost:
		m := reCheckRuns.FindStringSubmatch(p)
		if !repoOK(m) {
			return errResp(fail(404, "Not Found"))
		}
		if !perms.Checks {
			return errResp(fail(403, "Resource not accessible by integration"))
		}
		if e := s.checkBody(opCreateCheckRun, body); e != nil {
			return errResp(e)
		}
		out, e = s.createCheckRun(body)
		status = http.StatusCreated
	case reCheckRun.MatchString(p) && r.Method == http.MethodPatch:
		m := reCheckRun.FindStringSubmatch(p)
		if !repoOK(m) {
			return errResp(fail(404, "Not Found"))
		}
		if !perms.Checks {
			return errResp(fail(403, "Resource not accessible by integration"))
		}
		if e := s.checkBody(opUpdateCheckRun, body); e != nil {
			return errResp(e)
		}
		id, _ := strconv.ParseInt(m[3], 10, 64)
		out, e = s.updateCheckRun(id, body)
	case reStatuses.MatchString(p) && r.Method == http.MethodPost:
		m := reStatuses.FindStringSubmatch(p)
		if !repoOK(m) {
			return errResp(fail(404, "Not Found"))
		}
		if !perms.Statuses {
			return errResp(fail(403, "Resource not accessible by integration"))
		}
		if e := s.checkBody(opCreateStatus, body); e != nil {
			return errResp(e)
		}
		out, e = s.createStatus(m[3], body)
		status = http.StatusCreated
	case reComments.MatchString(p) && r.Method == http.MethodGet:
		m := reComments.FindStringSubmatch(p)
		if !repoOK(m) {
			return errResp(fail(404, "Not Found"))
		}
		n, _ := strconv.Atoi(m[3])
		return s.listComments(r, n)
	case reComments.MatchString(p) && r.Method == http.MethodPost:
		m := reComments.FindStringSubmatch(p)
		if !repoOK(m) {
			return errResp(fail(404, "Not Found"))
		}
		n, _ := strconv.Atoi(m[3])
		// Comments on an issue need `issues: write`, on a pull request
		// `pull-requests: write`.
		if !perms.PullRequests && (!perms.Issues || !s.isIssue(n)) {
			return errResp(fail(403, "Resource not accessible by integration"))
		}
		if e := s.checkBody(opCreateComment, body); e != nil {
			return errResp(e)
		}
		out, e = s.createComment(n, body)
		status = http.StatusCreated
	case reComment.MatchString(p) && (r.Method == http.MethodPatch || r.Method == http.MethodDelete):
		m := reComment.FindStringSubmatch(p)
		if !repoOK(m) {
			return errResp(fail(404, "Not Found"))
		}
		if !perms.PullRequests {
			return errResp(fail(403, "Resource not accessible by integration"))
		}
		id, _ := strconv.ParseInt(m[3], 10, 64)
		if r.Method == http.MethodDelete {
			e = s.deleteComment(id)
			status = http.StatusNoContent
		} else if e = s.checkBody(opUpdateComment, body); e == nil {
			out, e = s.editComment(id, body)
		}
	default:
		return errResp(fail(404, "Not Found"))
	}
	if e != nil {
		return errResp(e)
	}
	return status, out, nil
}

type checkRunBody struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title       *string           `json:"title"`
		Summary     *string           `json:"summary"`
		Text        *string           `json:"text"`
		Annotations []json.RawMessage `json:"annotations"`
	} `json:"output"`
}

func (s *Server) createCheckRun(body []byte) (any, *httpError) {
	var b checkRunBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fail(400, "Problems parsing JSON")
	}
	if b.Name == nil || *b.Name == "" || b.HeadSHA == nil || *b.HeadSHA == "" {
		return nil, fail(422, "Invalid request: name and head_sha are required")
	}
	cr := &CheckRun{Name: *b.Name, HeadSHA: *b.HeadSHA, Status: "queued"}
	if e := s.applyCheckRun(cr, &b); e != nil {
		return nil, e
	}
	s.nextID++
	cr.ID = s.nextID
	s.checkRuns[cr.ID] = cr
	return s.checkRunJSON(cr), nil
}

func (s *Server) updateCheckRun(id int64, body []byte) (any, *httpError) {
	cr, ok := s.checkRuns[id]
	if !ok {
		return nil, fail(404, "Not Found")
	}
	var b checkRunBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fail(400, "Problems parsing JSON")
	}
	next := *cr
	next.Annotations = slices.Clone(cr.Annotations)
	if e := s.applyCheckRun(&next, &b); e != nil {
		return nil, e
	}
	*cr = next
	return s.checkRunJSON(cr), nil
}

// applyCheckRun validates a create/update body as GitHub does and applies it.
func (s *Server) applyCheckRun(cr *CheckRun, b *checkRunBody) *httpError {
	if b.Name != nil {
		cr.Name = *b.Name
	}
	if b.Status != nil {
		if !slices.Contains(checkStatus, *b.Status) {
			return fail(422, "Invalid request: status %q is not a member of %v", *b.Status, checkStatus)
		}
		cr.Status = *b.Status
	}
	if b.Conclusion != nil {
		if !slices.Contains(conclusions, *b.Conclusion) {
			return fail(422, "Invalid request: conclusion %q is not a member of %v", *b.Conclusion, conclusions)
		}
		cr.Conclusion = *b.Conclusion
		// GitHub completes a run given a conclusion.
		cr.Status = "completed"
	}
	if cr.Status == "completed" && cr.Conclusion == "" {
		return fail(422, "Invalid request: conclusion is required when status is completed")
	}
	if o := b.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return fail(422, "Invalid request: output.title and output.summary are required")
		}
		// Bytes, not characters: len, not utf8.RuneCountInString.
		if len(*o.Summary) > github.MaxCheckRunSummary {
			return tooManyBytes("summary", github.MaxCheckRunSummary)
		}
		if o.Text != nil && len(*o.Text) > github.MaxCheckRunText {
			return tooManyBytes("text", github.MaxCheckRunText)
		}
		if len(o.Annotations) > github.MaxAnnotationsPerRequest {
			return fail(422, "Invalid request: only %d annotations are allowed per request, got %d", github.MaxAnnotationsPerRequest, len(o.Annotations))
		}
		for i, raw := range o.Annotations {
			var a Annotation
			if err := json.Unmarshal(raw, &a); err != nil {
				return fail(400, "Problems parsing JSON")
			}
			if a.Path == "" || a.StartLine < 1 || a.EndLine < a.StartLine || a.Message == "" || !slices.Contains(levels, a.Level) {
				return fail(422, "Invalid request: annotation %d needs path, start_line, end_line >= start_line, annotation_level in %v and message", i, levels)
			}
			if len(a.Message) > github.MaxAnnotationBytes {
				return fail(422, "Invalid request: annotation %d: message exceeds a maximum bytesize of %d", i, github.MaxAnnotationBytes)
			}
			cr.Annotations = append(cr.Annotations, a)
		}
		if len(o.Annotations) > 0 {
			cr.AnnotationRequests++
		}
		cr.Title, cr.Summary = *o.Title, *o.Summary
		if o.Text != nil {
			cr.Text = *o.Text
		}
	}
	return nil
}

func (s *Server) checkRunJSON(cr *CheckRun) map[string]any {
	return map[string]any{"id": cr.ID, "name": cr.Name, "head_sha": cr.HeadSHA, "status": cr.Status, "conclusion": cr.Conclusion}
}

func (s *Server) createStatus(sha string, body []byte) (any, *httpError) {
	var b struct {
		State       string `json:"state"`
		Context     string `json:"context"`
		Description string `json:"description"`
		TargetURL   string `json:"target_url"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fail(400, "Problems parsing JSON")
	}
	if !slices.Contains(statusStates, b.State) {
		return nil, fail(422, "Validation Failed: state %q is not a member of %v", b.State, statusStates)
	}
	if b.Context == "" {
		b.Context = "default"
	}
	if n := utf8.RuneCountInString(b.Description); n > github.MaxStatusDescription {
		return nil, fail(422, "Validation Failed: description is too long (maximum is %d characters)", github.MaxStatusDescription)
	}
	count := 0
	for _, st := range s.statuses {
		if st.SHA == sha && st.Context == b.Context {
			count++
		}
	}
	if count >= github.MaxStatusesPerContext {
		return nil, fail(422, "Validation Failed: This SHA and context has reached the maximum number of statuses.")
	}
	s.statuses = append(s.statuses, Status{SHA: sha, Context: b.Context, State: b.State, Description: b.Description, TargetURL: b.TargetURL})
	return map[string]any{"state": b.State, "context": b.Context}, nil
}

func (s *Server) listComments(r *http.Request, number int) (int, any, map[string]string) {
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	var all []map[string]any
	for _, c := range s.comments {
		if c.Number == number {
			all = append(all, map[string]any{"id": c.ID, "body": c.Body})
		}
	}
	from := min((page-1)*perPage, len(all))
	to := min(from+perPage, len(all))
	out := all[from:to]
	if out == nil {
		out = []map[string]any{}
	}
	hdr := map[string]string{}
	if to < len(all) {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(page+1))
		u.RawQuery = q.Encode()
		hdr["Link"] = fmt.Sprintf(`<%s%s>; rel="next"`, s.URL, u.RequestURI())
	}
	return http.StatusOK, out, hdr
}

func commentBody(body []byte) (string, *httpError) {
	var b struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return "", fail(400, "Problems parsing JSON")
	}
	if b.Body == nil || *b.Body == "" {
		return "", fail(422, "Validation Failed: body is required")
	}
	if n := utf8.RuneCountInString(*b.Body); n > github.MaxCommentBody {
		return "", fail(422, "Validation Failed: body is too long (maximum is %d characters)", github.MaxCommentBody)
	}
	return *b.Body, nil
}

func (s *Server) createComment(number int, body []byte) (any, *httpError) {
	text, e := commentBody(body)
	if e != nil {
		return nil, e
	}
	s.nextID++
	s.comments = append(s.comments, &Comment{ID: s.nextID, Number: number, Body: text})
	return map[string]any{"id": s.nextID, "body": text}, nil
}

func (s *Server) editComment(id int64, body []byte) (any, *httpError) {
	text, e := commentBody(body)
	if e != nil {
		return nil, e
	}
	for _, c := range s.comments {
		if c.ID == id {
			c.Body = text
			return map[string]any{"id": id, "body": text}, nil
		}
	}
	return nil, fail(404, "Not Found")
}

func (s *Server) deleteComment(id int64) *httpError {
	for i, c := range s.comments {
		if c.ID == id {
			s.comments = slices.Delete(s.comments, i, i+1)
			return nil
		}
	}
	return fail(404, "Not Found")
}
