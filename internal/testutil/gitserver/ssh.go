package gitserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSH serves the repositories of a Server over SSH (git-upload-pack only)
// on loopback, accepting one client key. Test code only.
type SSH struct {
	srv      *Server
	listener net.Listener
	hostKey  ssh.Signer
	client   ed25519.PrivateKey

	mu      sync.Mutex
	offered []string // authorized-key lines of every public key a client offered
}

// StartSSH serves s over SSH with a fresh host key and a fresh client key
// (the only one accepted); it stops when the test ends.
func (s *Server) StartSSH() *SSH {
	s.t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		s.t.Fatal(err)
	}
	_, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	x := &SSH{srv: s, listener: l, hostKey: hostKey, client: clientPriv}
	s.t.Cleanup(func() { _ = l.Close() })
	go x.serve()
	return x
}

// URL is the ssh:// clone URL of the repository name.
func (x *SSH) URL(name string) string {
	return "ssh://git@" + x.listener.Addr().String() + "/" + name
}

// KnownHosts is a known_hosts line for this server's host key.
func (x *SSH) KnownHosts() []byte {
	return []byte(knownhosts.Line([]string{knownhosts.Normalize(x.listener.Addr().String())}, x.hostKey.PublicKey()) + "\n")
}

// Identity is the accepted client key, PEM encoded (OpenSSH format).
func (x *SSH) Identity() []byte {
	block, err := ssh.MarshalPrivateKey(x.client, "")
	if err != nil {
		x.srv.t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

// Offered lists the public keys clients offered, as authorized_keys lines.
func (x *SSH) Offered() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.offered...)
}

func (x *SSH) serve() {
	want, err := ssh.NewPublicKey(x.client.Public())
	if err != nil {
		return
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		x.mu.Lock()
		x.offered = append(x.offered, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
		x.mu.Unlock()
		if bytes.Equal(key.Marshal(), want.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(x.hostKey)
	for {
		conn, err := x.listener.Accept()
		if err != nil {
			return
		}
		go x.handle(conn, cfg)
	}
}

func (x *SSH) handle(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go x.session(ch, chReqs)
	}
}

// session runs one "exec git-upload-pack '<path>'" request.
func (x *SSH) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" || len(req.Payload) < 4 {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		cmd := string(req.Payload[4:])
		err := x.uploadPack(ch, cmd)
		status := uint32(0)
		if err != nil {
			fmt.Fprintln(ch.Stderr(), err)
			status = 1
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], status)
		_, _ = ch.SendRequest("exit-status", false, b[:])
		return
	}
}

// uploadPack speaks git-upload-pack as go-git's own server does over a
// stream: advertise, read the request, send the pack.
func (x *SSH) uploadPack(ch io.ReadWriter, cmd string) error {
	svc, arg, ok := strings.Cut(cmd, " ")
	if !ok || svc != uploadPack {
		return fmt.Errorf("unsupported command %q", cmd)
	}
	name := strings.TrimPrefix(strings.Trim(arg, "'"), "/")
	x.srv.mu.Lock()
	rp, exists := x.srv.repos[name]
	x.srv.mu.Unlock()
	if !exists {
		return fmt.Errorf("repository %q not found", name)
	}
	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()
	sess, err := x.srv.git.NewUploadPackSession(&transport.Endpoint{Protocol: "file", Path: name}, nil)
	if err != nil {
		return err
	}
	ar, err := sess.AdvertisedReferencesContext(context.Background())
	if err != nil {
		return err
	}
	if err := ar.Encode(ch); err != nil {
		return err
	}
	req := packp.NewUploadPackRequest()
	if err := req.Decode(ch); err != nil {
		// A listing ends after the advertisement.
		return nil
	}
	resp, err := sess.UploadPack(context.Background(), req)
	if err != nil {
		return err
	}
	return resp.Encode(ch)
}
