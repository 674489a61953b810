package gitserver

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

const (
	uploadPack  = transport.UploadPackServiceName  // "git-upload-pack"
	receivePack = transport.ReceivePackServiceName // "git-receive-pack"
	infoRefs    = "/info/refs"
)

// route splits a request path into the repository name and the service
// asked for; advertise is true for the GET /info/refs discovery request.
func route(r *http.Request) (name, service string, advertise bool, ok bool) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if n, found := strings.CutSuffix(p, infoRefs); found {
		return n, r.URL.Query().Get("service"), true, true
	}
	for _, svc := range []string{uploadPack, receivePack} {
		if n, found := strings.CutSuffix(p, "/"+svc); found {
			return n, svc, false, true
		}
	}
	return "", "", false, false
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	name, service, advertise, ok := route(r)
	if !ok {
		http.Error(w, "not a git smart-HTTP route", http.StatusNotFound)
		return
	}
	if service != uploadPack && service != receivePack {
		// Without ?service= a client wants the dumb protocol, which go-git
		// does not speak and this server does not serve.
		http.Error(w, fmt.Sprintf("unsupported service %q", service), http.StatusForbidden)
		return
	}
	if (advertise && r.Method != http.MethodGet) || (!advertise && r.Method != http.MethodPost) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	s.mu.Lock()
	token := s.token
	rp, exists := s.repos[name]
	readOnly := exists && rp.readOnly
	s.mu.Unlock()

	if token != "" && !authorized(r, token) {
		w.Header().Set("WWW-Authenticate", `Basic realm="slipway test git server"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	if !exists {
		http.Error(w, fmt.Sprintf("repository %q not found", name), http.StatusNotFound)
		return
	}
	if service == receivePack && readOnly {
		http.Error(w, fmt.Sprintf("write access to %q denied", name), http.StatusForbidden)
		return
	}

	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()

	ep := &transport.Endpoint{Protocol: "file", Path: name}
	switch {
	case advertise:
		s.advertise(w, r, ep, service)
	case service == uploadPack:
		s.uploadPack(w, r, ep)
	default:
		s.receivePack(w, r, ep, rp)
	}
}

// authorized accepts HTTP basic auth whose password is token, whatever the
// user name, as GitHub does for "x-access-token".
func authorized(r *http.Request, token string) bool {
	_, password, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(password), []byte(token)) == 1
}

// advertise answers GET /info/refs?service=…: the smart-HTTP service header,
// a flush, then the reference advertisement of the service.
func (s *Server) advertise(w http.ResponseWriter, r *http.Request, ep *transport.Endpoint, service string) {
	var ar *packp.AdvRefs
	var err error
	if service == uploadPack {
		var sess transport.UploadPackSession
		if sess, err = s.git.NewUploadPackSession(ep, nil); err == nil {
			ar, err = sess.AdvertisedReferencesContext(r.Context())
		}
	} else {
		var sess transport.ReceivePackSession
		if sess, err = s.git.NewReceivePackSession(ep, nil); err == nil {
			ar, err = sess.AdvertisedReferencesContext(r.Context())
		}
	}
	if err != nil {
		httpError(w, fmt.Errorf("advertising references of %s: %w", ep.Path, err))
		return
	}
	ar.Prefix = [][]byte{[]byte("# service=" + service), pktline.Flush}

	// Encode fully before writing so an error can still become a 500.
	var buf bytes.Buffer
	if err := ar.Encode(&buf); err != nil {
		httpError(w, fmt.Errorf("encoding references of %s: %w", ep.Path, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-"+service+"-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf.Bytes())
}

// uploadPack answers POST /git-upload-pack (clone and fetch).
func (s *Server) uploadPack(w http.ResponseWriter, r *http.Request, ep *transport.Endpoint) {
	body, err := requestBody(r, uploadPack)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := packp.NewUploadPackRequest()
	if err := req.UploadRequest.Decode(body); err != nil {
		http.Error(w, fmt.Sprintf("decoding upload-pack request: %v", err), http.StatusBadRequest)
		return
	}
	haves, err := decodeHaves(body)
	if err != nil {
		http.Error(w, fmt.Sprintf("decoding upload-pack haves: %v", err), http.StatusBadRequest)
		return
	}
	sto, err := s.loader.Load(ep)
	if err != nil {
		httpError(w, fmt.Errorf("opening %s: %w", ep.Path, err))
		return
	}
	// A client may have commits this repository never saw; git ignores such
	// haves, and go-git's revision walk would fail on them.
	for _, h := range haves {
		if sto.HasEncodedObject(h) == nil {
			req.Haves = append(req.Haves, h)
		}
	}

	sess, err := s.git.NewUploadPackSession(ep, nil)
	if err != nil {
		httpError(w, fmt.Errorf("opening %s: %w", ep.Path, err))
		return
	}
	resp, err := sess.UploadPack(r.Context(), req)
	if err != nil {
		httpError(w, fmt.Errorf("upload-pack on %s: %w", ep.Path, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-"+uploadPack+"-result")
	w.Header().Set("Cache-Control", "no-cache")
	// The pack streams from here; a failure now can only cut the response.
	_ = resp.Encode(w)
}

// decodeHaves reads the "have <hash>" lines that follow the wants, up to
// "done". go-git's UploadRequest decoder stops at the flush after the wants.
func decodeHaves(r io.Reader) ([]plumbing.Hash, error) {
	var haves []plumbing.Hash
	sc := pktline.NewScanner(r)
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\n"))
		switch {
		case len(line) == 0: // flush between rounds
		case string(line) == "done":
			return haves, nil
		case bytes.HasPrefix(line, []byte("have ")):
			hex := string(line[len("have "):])
			if !plumbing.IsHash(hex) {
				return nil, fmt.Errorf("malformed have line %q", line)
			}
			haves = append(haves, plumbing.NewHash(hex))
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
	}
	return haves, sc.Err()
}

// receivePack answers POST /git-receive-pack (push). It is written here
// rather than with go-git's receive-pack session because a remote standing
// in for GitHub must check each command's old value against the current
// reference and refuse non-fast-forward branch updates; go-git's server
// overwrites references unconditionally.
func (s *Server) receivePack(w http.ResponseWriter, r *http.Request, ep *transport.Endpoint, rp *repo) {
	body, err := requestBody(r, receivePack)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := packp.NewReferenceUpdateRequest()
	if err := req.Decode(body); err != nil {
		http.Error(w, fmt.Sprintf("decoding receive-pack request: %v", err), http.StatusBadRequest)
		return
	}
	sto, err := s.loader.Load(ep)
	if err != nil {
		httpError(w, fmt.Errorf("opening %s: %w", ep.Path, err))
		return
	}

	report := packp.NewReportStatus()
	report.UnpackStatus = "ok"
	// A push that only deletes references carries no pack at all.
	pack := bufio.NewReader(req.Packfile)
	if _, err := pack.Peek(1); err == nil {
		if err := packfile.UpdateObjectStorage(sto, pack); err != nil {
			report.UnpackStatus = "unpack failed: " + err.Error()
		}
	}

	allOK := report.UnpackStatus == "ok"
	for _, cmd := range req.Commands {
		status := "ok"
		if !allOK {
			status = "unpacker error"
		} else if err := updateReference(sto, cmd); err != nil {
			status = err.Error()
		}
		if status != "ok" {
			allOK = false
		}
		report.CommandStatuses = append(report.CommandStatuses,
			&packp.CommandStatus{ReferenceName: cmd.Name, Status: status})
	}
	if allOK && len(req.Commands) > 0 {
		if err := followFirstBranch(sto, req.Commands); err != nil {
			httpError(w, fmt.Errorf("updating HEAD of %s: %w", ep.Path, err))
			return
		}
		s.mu.Lock()
		rp.pushes++
		s.mu.Unlock()
	}

	w.Header().Set("Content-Type", "application/x-"+receivePack+"-result")
	w.Header().Set("Cache-Control", "no-cache")
	if !req.Capabilities.Supports(capability.ReportStatus) {
		return
	}
	var buf bytes.Buffer
	if err := report.Encode(&buf); err != nil {
		httpError(w, fmt.Errorf("encoding report status: %w", err))
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// updateReference applies one push command the way git-receive-pack does:
// the old value must match, and branches only move forward. The returned
// error text is the reason reported to the client ("ng <ref> <reason>").
func updateReference(sto storer.Storer, cmd *packp.Command) error {
	if err := cmd.Name.Validate(); err != nil || !strings.HasPrefix(cmd.Name.String(), "refs/") {
		return errors.New("funny refname")
	}
	current, err := sto.Reference(cmd.Name)
	if err != nil && !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return fmt.Errorf("reading reference: %w", err)
	}
	exists := err == nil
	// Pushes built on a stale view of the remote must not clobber it.
	if (exists && current.Hash() != cmd.Old) || (!exists && cmd.Old != plumbing.ZeroHash) {
		return errors.New("stale info")
	}

	if cmd.Action() == packp.Delete {
		return sto.RemoveReference(cmd.Name)
	}
	if sto.HasEncodedObject(cmd.New) != nil {
		return errors.New("missing necessary objects")
	}
	if cmd.Name.IsBranch() {
		newCommit, err := object.GetCommit(sto, cmd.New)
		if err != nil {
			return errors.New("branch must point at a commit")
		}
		if exists {
			oldCommit, err := object.GetCommit(sto, cmd.Old)
			if err != nil {
				return errors.New("missing necessary objects")
			}
			ff, err := oldCommit.IsAncestor(newCommit)
			if err != nil {
				return fmt.Errorf("checking fast-forward: %w", err)
			}
			if !ff {
				return errors.New("non-fast-forward")
			}
		}
	}
	return sto.SetReference(plumbing.NewHashReference(cmd.Name, cmd.New))
}

// followFirstBranch points a dangling HEAD (an empty repository whose default
// branch was never pushed) at the first branch this push created, as GitHub
// makes the first pushed branch the default one.
func followFirstBranch(sto storer.Storer, cmds []*packp.Command) error {
	head, err := sto.Reference(plumbing.HEAD)
	if err != nil || head.Type() != plumbing.SymbolicReference {
		return nil
	}
	if _, err := sto.Reference(head.Target()); err == nil {
		return nil
	}
	for _, cmd := range cmds {
		if cmd.Action() == packp.Create && cmd.Name.IsBranch() {
			return sto.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, cmd.Name))
		}
	}
	return nil
}

// requestBody checks the request content type and undoes gzip content
// encoding, which git clients use for large negotiation requests.
func requestBody(r *http.Request, service string) (io.Reader, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/x-"+service+"-request" {
		return nil, fmt.Errorf("unexpected content type %q for %s", ct, service)
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return r.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("reading gzip request body: %w", err)
		}
		return zr, nil
	default:
		return nil, fmt.Errorf("unsupported content encoding %q", enc)
	}
}

// httpError maps go-git's "not found" to 404 and anything else to 500.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, transport.ErrRepositoryNotFound) {
		code = http.StatusNotFound
	}
	http.Error(w, err.Error(), code)
}
