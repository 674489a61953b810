package githubtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/internal/github"
)

// Deployment is a stored GitHub deployment with its statuses.
type Deployment struct {
	ID                   int64
	Ref, Environment     string
	Description          string
	AutoMerge            *bool
	RequiredContexts     []string
	TransientEnvironment bool
	Statuses             []DeploymentStatus
}

// DeploymentStatus is one status of a deployment, as sent.
type DeploymentStatus struct {
	State, Description, LogURL, EnvironmentURL string
}

// Issue is a stored issue; Comments are in Server.Comments(Number).
type Issue struct {
	Number      int
	Title, Body string
	State       string
	Labels      []string
}

// Operation IDs of the deployment and issue endpoints (openapi.go).
const (
	opCreateDeployment       = "repos/create-deployment"
	opCreateDeploymentStatus = "repos/create-deployment-status"
	opCreateIssue            = "issues/create"
	opUpdateIssue            = "issues/update"
)

var (
	reDeployments      = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/deployments$`)
	reDeploymentStatus = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/deployments/(\d+)/statuses$`)
	reIssues           = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues$`)
	reIssue            = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)$`)
)

// Deployments returns the deployments, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deployment, 0, len(s.deployments))
	for _, d := range s.deployments {
		c := *d
		c.Statuses = slices.Clone(d.Statuses)
		out = append(out, c)
	}
	return out
}

// Issues returns the issues, oldest first.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, 0, len(s.issues))
	for _, i := range s.issues {
		c := *i
		c.Labels = slices.Clone(i.Labels)
		out = append(out, c)
	}
	return out
}

// handleDeploymentsAndIssues serves the deployment and issue endpoints;
// handled is false for any other request. Bodies are checked against
// GitHub's OpenAPI description, then as GitHub answers them.
func (s *Server) handleDeploymentsAndIssues(r *http.Request, body []byte, perms Permissions) (status int, out any, e *httpError, handled bool) {
	p := r.URL.Path
	var m []string
	for _, re := range []*regexp.Regexp{reDeployments, reDeploymentStatus, reIssues, reIssue} {
		if m = re.FindStringSubmatch(p); m != nil {
			break
		}
	}
	if m == nil {
		return 0, nil, nil, false
	}
	if m[1] != s.Owner || m[2] != s.Repo {
		return 0, nil, fail(404, "Not Found"), true
	}
	forbidden := fail(403, "Resource not accessible by integration")
	switch {
	case reDeployments.MatchString(p) && r.Method == http.MethodPost:
		if !perms.Deployments {
			return 0, nil, forbidden, true
		}
		if e := s.checkBody(opCreateDeployment, body); e != nil {
			return 0, nil, e, true
		}
		out, e = s.createDeployment(body)
		return http.StatusCreated, out, e, true
	case reDeploymentStatus.MatchString(p) && r.Method == http.MethodPost:
		if !perms.Deployments {
			return 0, nil, forbidden, true
		}
		if e := s.checkBody(opCreateDeploymentStatus, body); e != nil {
			return 0, nil, e, true
		}
		id, _ := strconv.ParseInt(m[3], 10, 64)
		out, e = s.createDeploymentStatus(id, body)
		return http.StatusCreated, out, e, true
	case reIssues.MatchString(p) && r.Method == http.MethodGet:
		return http.StatusOK, s.listIssues(r), nil, true
	case reIssues.MatchString(p) && r.Method == http.MethodPost:
		if !perms.Issues {
			return 0, nil, forbidden, true
		}
		if e := s.checkBody(opCreateIssue, body); e != nil {
			return 0, nil, e, true
		}
		out, e = s.createIssue(body)
		return http.StatusCreated, out, e, true
	case reIssue.MatchString(p) && r.Method == http.MethodPatch:
		if !perms.Issues {
			return 0, nil, forbidden, true
		}
		if e := s.checkBody(opUpdateIssue, body); e != nil {
			return 0, nil, e, true
		}
		n, _ := strconv.Atoi(m[3])
		out, e = s.updateIssue(n, body)
		return http.StatusOK, out, e, true
	}
	return 0, nil, fail(404, "Not Found"), true
}

func (s *Server) createDeployment(body []byte) (any, *httpError) {
	var b struct {
		Ref                  string    `json:"ref"`
		Environment          *string   `json:"environment"`
		Description          string    `json:"description"`
		AutoMerge            *bool     `json:"auto_merge"`
		RequiredContexts     *[]string `json:"required_contexts"`
		TransientEnvironment bool      `json:"transient_environment"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fail(400, "Problems parsing JSON")
	}
	// GitHub's defaults: auto_merge true (merging the default branch into
	// the ref, a 409 when it conflicts) and every commit status context
	// required. A deploy tool must turn both off; the fake refuses a
	// request that leaves them on, as the real API would act on them.
	if b.AutoMerge == nil || *b.AutoMerge {
		return nil, fail(409, "Conflict merging the default branch into %s (auto_merge defaults to true)", b.Ref)
	}
	if b.RequiredContexts == nil {
		return nil, fail(409, "Conflict: commit status checks failed for %s (required_contexts defaults to every context)", b.Ref)
	}
	env := "production"
	if b.Environment != nil {
		env = *b.Environment
	}
	if n := utf8.RuneCountInString(env); n == 0 || n > MaxEnvironmentName {
		return nil, fail(422, "Validation Failed: environment must be 1 to %d characters", MaxEnvironmentName)
	}
	s.nextID++
	d := &Deployment{ID: s.nextID, Ref: b.Ref, Environment: env, Description: b.Description, AutoMerge: b.AutoMerge,
		RequiredContexts: *b.RequiredContexts, TransientEnvironment: b.TransientEnvironment}
	s.deployments = append(s.deployments, d)
	return map[string]any{"id": d.ID, "ref": d.Ref, "sha": d.Ref, "environment": env, "description": d.Description}, nil
}

func (s *Server) createDeploymentStatus(id int64, body []byte) (any, *httpError) {
	var d *Deployment
	for _, x := range s.deployments {
		if x.ID == id {
			d = x
		}
	}
	if d == nil {
		return nil, fail(404, "Not Found")
	}
	var b struct {
		State          string `json:"state"`
		Description    string `json:"description"`
		LogURL         string `json:"log_url"`
		EnvironmentURL string `json:"environment_url"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fail(400, "Problems parsing JSON")
	}
	if n := utf8.RuneCountInString(b.Description); n > github.MaxDeploymentDescription {
		return nil, fail(422, "Validation Failed: description is too long (maximum is %d characters)", github.MaxDeploymentDescription)
	}
	d.Statuses = append(d.Statuses, DeploymentStatus{State: b.State, Description: b.Description, LogURL: b.LogURL, EnvironmentURL: b.EnvironmentURL})
	s.nextID++
	return map[string]any{"id": s.nextID, "state": b.State}, nil
}

// listIssues answers GET /issues: open issues by default, filtered by
// every label of ?labels=a,b, as GitHub does.
func (s *Server) listIssues(r *http.Request) []map[string]any {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	out := []map[string]any{}
	for _, i := range s.issues {
		if state != "all" && i.State != state {
			continue
		}
		if !containsAll(i.Labels, want) {
			continue
		}
		out = append(out, s.issueJSON(i))
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

type issueBody struct {
	Title  *string   `json:"title"`
	Body   *string   `json:"body"`
	State  *string   `json:"state"`
	Labels *[]string `json:"labels"`
}

func (s *Server) createIssue(body []byte) (any, *httpError) {
	var b issueBody
	if err := json.Unmarshal(body, &b); err != nil || b.Title == nil {
		return nil, fail(422, "Validation Failed: title is required")
	}
	i := &Issue{Number: len(s.issues) + 1, State: "open"}
	if e := applyIssue(i, &b); e != nil {
		return nil, e
	}
	s.issues = append(s.issues, i)
	return s.issueJSON(i), nil
}

func (s *Server) updateIssue(number int, body []byte) (any, *httpError) {
	if number < 1 || number > len(s.issues) {
		return nil, fail(404, "Not Found")
	}
	var b issueBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fail(400, "Problems parsing JSON")
	}
	i := s.issues[number-1]
	if e := applyIssue(i, &b); e != nil {
		return nil, e
	}
	return s.issueJSON(i), nil
}

func applyIssue(i *Issue, b *issueBody) *httpError {
	if b.Title != nil {
		if *b.Title == "" {
			return fail(422, "Validation Failed: title cannot be blank")
		}
		i.Title = *b.Title
	}
	if b.Body != nil {
		if n := utf8.RuneCountInString(*b.Body); n > github.MaxCommentBody {
			return fail(422, "Validation Failed: body is too long (maximum is %d characters)", github.MaxCommentBody)
		}
		i.Body = *b.Body
	}
	if b.State != nil {
		i.State = *b.State
	}
	if b.Labels != nil {
		i.Labels = slices.Clone(*b.Labels)
	}
	return nil
}

func (s *Server) issueJSON(i *Issue) map[string]any {
	labels := make([]map[string]any, 0, len(i.Labels))
	for _, l := range i.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	return map[string]any{"number": i.Number, "title": i.Title, "body": i.Body, "state": i.State, "labels": labels}
}

func (s *Server) isIssue(number int) bool { return number >= 1 && number <= len(s.issues) }
