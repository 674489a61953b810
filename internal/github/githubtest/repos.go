package githubtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// GitHub's documented limits on what bootstrap creates.
const (
	// MaxSecretBytes bounds an Actions secret's value (48 KB).
	MaxSecretBytes = 48 * 1024
	// MaxEnvironmentName bounds an environment's name.
	MaxEnvironmentName = 255
)

// User is who a token belongs to, for the repository endpoints.
type User struct {
	Login string
	// Scopes is sent as X-OAuth-Scopes, as for classic tokens; "" sends
	// none, as for fine-grained tokens.
	Scopes string
	// Admin grants admin rights on repositories the user did not create
	// (environments and secrets need them).
	Admin bool
}

// Repository is a repository the fake knows.
type Repository struct {
	ID           int64
	Owner, Name  string
	Private      bool
	CloneURL     string
	Environments map[string]*Environment
}

// Environment is a repository's deployment environment with its secrets.
type Environment struct {
	Name    string
	public  *[32]byte
	private *[32]byte
	keyID   string
	// Secrets hold the sealed values as sent.
	Secrets map[string]Secret
}

// Secret is a stored Actions secret.
type Secret struct {
	Sealed           []byte
	Created, Updated time.Time
	Writes           int
}

type reposState struct {
	users  map[string]User
	repos  map[string]*Repository // "owner/name"
	byID   map[int64]*Repository
	nextID int64
	// cloneURL gives a created repository's clone URL (a local Git server).
	cloneURL func(owner, name string) string
}

func (s *Server) reposState() *reposState {
	if s.repos == nil {
		s.repos = &reposState{users: map[string]User{}, repos: map[string]*Repository{}, byID: map[int64]*Repository{}, nextID: 500}
	}
	return s.repos
}

// AddUser makes token valid for the repository endpoints as user u. It also
// registers the token with every permission of the checks endpoints.
func (s *Server) AddUser(token string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = WriteAll
	s.reposState().users[token] = u
}

// CloneURLs sets how a repository's clone URL is made (tests point it at a
// local Git server, and create the bare repository there).
func (s *Server) CloneURLs(f func(owner, name string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reposState().cloneURL = f
}

// AddRepository registers an existing repository.
func (s *Server) AddRepository(owner, name string, private bool) *Repository {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reposState().add(owner, name, private)
}

// RepoState returns a copy of a repository's state, nil when unknown.
func (s *Server) RepoState(owner, name string) *Repository {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reposState().repos[owner+"/"+name]
	if r == nil {
		return nil
	}
	c := *r
	c.Environments = map[string]*Environment{}
	for k, e := range r.Environments {
		ec := *e
		ec.Secrets = map[string]Secret{}
		for n, v := range e.Secrets {
			ec.Secrets[n] = v
		}
		c.Environments[k] = &ec
	}
	return &c
}

// OpenSecret decrypts a stored environment secret with the environment's
// private key, as GitHub does when a workflow reads it.
func (s *Server) OpenSecret(owner, name, env, secret string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reposState().repos[owner+"/"+name]
	if r == nil || r.Environments[env] == nil {
		return nil, fmt.Errorf("no environment %s in %s/%s", env, owner, name)
	}
	e := r.Environments[env]
	v, ok := e.Secrets[secret]
	if !ok {
		return nil, fmt.Errorf("no secret %s in environment %s", secret, env)
	}
	out, ok := box.OpenAnonymous(nil, v.Sealed, e.public, e.private)
	if !ok {
		return nil, fmt.Errorf("secret %s does not open with the environment's key", secret)
	}
	return out, nil
}

func (st *reposState) add(owner, name string, private bool) *Repository {
	st.nextID++
	r := &Repository{ID: st.nextID, Owner: owner, Name: name, Private: private, Environments: map[string]*Environment{}}
	if st.cloneURL != nil {
		r.CloneURL = st.cloneURL(owner, name)
	}
	st.repos[owner+"/"+name] = r
	st.byID[r.ID] = r
	return r
}

var (
	reUser        = regexp.MustCompile(`^/user$`)
	reRepo        = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)$`)
	reUserRepos   = regexp.MustCompile(`^/user/repos$`)
	reOrgRepos    = regexp.MustCompile(`^/orgs/([^/]+)/repos$`)
	reEnvironment = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/environments/([^/]+)$`)
	reEnvKey      = regexp.MustCompile(`^/repositories/(\d+)/environments/([^/]+)/secrets/public-key$`)
	reEnvSecret   = regexp.MustCompile(`^/repositories/(\d+)/environments/([^/]+)/secrets/([^/]+)$`)
	secretName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (st *reposState) repoJSON(r *Repository, u User) map[string]any {
	admin := u.Admin || strings.EqualFold(r.Owner, u.Login)
	return map[string]any{
		"id": r.ID, "name": r.Name, "full_name": r.Owner + "/" + r.Name, "private": r.Private,
		"owner":     map[string]any{"login": r.Owner},
		"clone_url": r.CloneURL, "default_branch": "main",
		"permissions": map[string]bool{"admin": admin, "push": true, "pull": true},
	}
}

// handleRepos serves the repository, environment and secret endpoints;
// handled is false for any other path.
func (s *Server) handleRepos(r *http.Request, body []byte, token string) (status int, out any, hdr map[string]string, e *httpError, handled bool) {
	st := s.reposState()
	u, known := st.users[token]
	p := r.URL.Path
	if !known && (reUser.MatchString(p) || reRepo.MatchString(p) || reUserRepos.MatchString(p) || reOrgRepos.MatchString(p) ||
		reEnvironment.MatchString(p) || reEnvKey.MatchString(p) || reEnvSecret.MatchString(p)) {
		// A token of the checks endpoints only (GITHUB_TOKEN): GitHub's
		// answer for endpoints an installation token may not use.
		return 0, nil, nil, fail(403, "Resource not accessible by integration"), true
	}
	scopes := map[string]string{}
	if u.Scopes != "" {
		scopes["X-OAuth-Scopes"] = u.Scopes
	}
	switch {
	case reUser.MatchString(p) && r.Method == http.MethodGet:
		return 200, map[string]any{"login": u.Login}, scopes, nil, true

	case reRepo.MatchString(p) && r.Method == http.MethodGet:
		m := reRepo.FindStringSubmatch(p)
		repo := st.repos[m[1]+"/"+m[2]]
		if repo == nil {
			return 0, nil, nil, fail(404, "Not Found"), true
		}
		return 200, st.repoJSON(repo, u), scopes, nil, true

	case (reUserRepos.MatchString(p) || reOrgRepos.MatchString(p)) && r.Method == http.MethodPost:
		owner := u.Login
		if m := reOrgRepos.FindStringSubmatch(p); m != nil {
			owner = m[1]
			if !u.Admin {
				return 0, nil, nil, fail(403, "You need admin access to the organization before adding a repository to it."), true
			}
		}
		if u.Scopes != "" && !strings.Contains(","+strings.ReplaceAll(u.Scopes, " ", "")+",", ",repo,") {
			return 0, nil, nil, fail(403, "Resource not accessible by personal access token"), true
		}
		var b struct {
			Name    string `json:"name"`
			Private *bool  `json:"private"`
		}
		if err := json.Unmarshal(body, &b); err != nil || b.Name == "" {
			return 0, nil, nil, fail(422, "Repository creation failed: name is missing"), true
		}
		if st.repos[owner+"/"+b.Name] != nil {
			return 0, nil, nil, fail(422, "Repository creation failed: name already exists on this account"), true
		}
		repo := st.add(owner, b.Name, b.Private != nil && *b.Private)
		return 201, st.repoJSON(repo, u), nil, nil, true

	case reEnvironment.MatchString(p) && r.Method == http.MethodPut:
		m := reEnvironment.FindStringSubmatch(p)
		repo := st.repos[m[1]+"/"+m[2]]
		if repo == nil {
			return 0, nil, nil, fail(404, "Not Found"), true
		}
		if !u.Admin && !strings.EqualFold(repo.Owner, u.Login) {
			return 0, nil, nil, fail(403, "Must have admin rights to Repository."), true
		}
		if len(m[3]) > MaxEnvironmentName {
			return 0, nil, nil, fail(422, "Validation Failed: name is too long (maximum is %d characters)", MaxEnvironmentName), true
		}
		env := repo.Environments[m[3]]
		if env == nil {
			pub, priv, err := box.GenerateKey(rand.Reader)
			if err != nil {
				return 0, nil, nil, fail(500, "key generation failed"), true
			}
			env = &Environment{Name: m[3], public: pub, private: priv, keyID: strconv.FormatInt(time.Now().UnixNano(), 10), Secrets: map[string]Secret{}}
			repo.Environments[m[3]] = env
		}
		return 200, map[string]any{"name": env.Name}, nil, nil, true

	case reEnvKey.MatchString(p) && r.Method == http.MethodGet:
		m := reEnvKey.FindStringSubmatch(p)
		env, herr := st.env(m[1], m[2])
		if herr != nil {
			return 0, nil, nil, herr, true
		}
		return 200, map[string]any{"key_id": env.keyID, "key": base64.StdEncoding.EncodeToString(env.public[:])}, nil, nil, true

	case reEnvSecret.MatchString(p):
		m := reEnvSecret.FindStringSubmatch(p)
		env, herr := st.env(m[1], m[2])
		if herr != nil {
			return 0, nil, nil, herr, true
		}
		name := m[3]
		switch r.Method {
		case http.MethodGet:
			v, ok := env.Secrets[name]
			if !ok {
				return 0, nil, nil, fail(404, "Not Found"), true
			}
			return 200, map[string]any{"name": name, "created_at": v.Created, "updated_at": v.Updated}, nil, nil, true
		case http.MethodDelete:
			if _, ok := env.Secrets[name]; !ok {
				return 0, nil, nil, fail(404, "Not Found"), true
			}
			delete(env.Secrets, name)
			return 204, nil, nil, nil, true
		case http.MethodPut:
			if !secretName.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
				return 0, nil, nil, fail(422, "Validation Failed: secret names can only contain alphanumeric characters or underscores, must not start with a number or GITHUB_"), true
			}
			var b struct {
				KeyID string `json:"key_id"`
				Value string `json:"encrypted_value"`
			}
			if err := json.Unmarshal(body, &b); err != nil {
				return 0, nil, nil, fail(400, "Problems parsing JSON"), true
			}
			if b.KeyID != env.keyID {
				return 0, nil, nil, fail(422, "Validation Failed: key_id does not match the environment's public key"), true
			}
			sealed, err := base64.StdEncoding.DecodeString(b.Value)
			if err != nil {
				return 0, nil, nil, fail(422, "Validation Failed: encrypted_value is not valid base64"), true
			}
			plain, ok := box.OpenAnonymous(nil, sealed, env.public, env.private)
			if !ok {
				return 0, nil, nil, fail(422, "Validation Failed: encrypted_value could not be decrypted with the environment's key"), true
			}
			if len(plain) > MaxSecretBytes {
				return 0, nil, nil, fail(422, "Validation Failed: secret value is too large (maximum is %d bytes)", MaxSecretBytes), true
			}
			now := time.Now()
			old, existed := env.Secrets[name]
			sec := Secret{Sealed: sealed, Created: now, Updated: now, Writes: old.Writes + 1}
			if existed {
				sec.Created = old.Created
			}
			env.Secrets[name] = sec
			if existed {
				return 204, nil, nil, nil, true
			}
			return 201, nil, nil, nil, true
		}
	}
	return 0, nil, nil, nil, false
}

func (st *reposState) env(repoID, name string) (*Environment, *httpError) {
	id, _ := strconv.ParseInt(repoID, 10, 64)
	repo := st.byID[id]
	if repo == nil {
		return nil, fail(404, "Not Found")
	}
	env := repo.Environments[name]
	if env == nil {
		return nil, fail(404, "Not Found")
	}
	return env, nil
}
