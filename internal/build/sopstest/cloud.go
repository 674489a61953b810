package sopstest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hosts are the names the fake cloud answers for, as the SDKs compute
// them: the certificate is valid for exactly these.
var Hosts = []string{
	"kms.us-east-1.amazonaws.com", "sts.amazonaws.com",
	"cloudkms.googleapis.com", "oauth2.googleapis.com",
	"login.microsoftonline.com", "myvault.vault.azure.net",
	"vault.example.test",
}

// Cloud is one TLS server on loopback that answers for the clouds' real
// host names. Its Client dials it whatever the host and verifies its
// certificate for that host against a CA made for the test, so the SDKs
// run unchanged: their own endpoints, their own TLS checks.
type Cloud struct {
	Server *httptest.Server
	AWS    *AWSKMS
	GCP    *GCPKMS
	Azure  *AzureKeyVault
	Vault  *VaultTransit

	pool *x509.CertPool
	mu   sync.Mutex
	seen []string
}

// NewCloud starts the fakes; they close with the test.
func NewCloud(t testing.TB) *Cloud {
	t.Helper()
	c := &Cloud{AWS: &AWSKMS{Keys: map[string][]byte{}}, GCP: newGCPKMS(t), Azure: &AzureKeyVault{Keys: map[string][]byte{}}, Vault: &VaultTransit{Keys: map[string][]byte{}}}
	cert, pool := certificate(t)
	c.pool = pool
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	c.Server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	c.Server.StartTLS()
	t.Cleanup(c.Server.Close)
	return c
}

// Client sends every request to the fake, over TLS verified for the host
// the request names.
func (c *Cloud) Client() *http.Client {
	addr := c.Server.Listener.Addr().String()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// Seen returns "METHOD host path" of every request, in order.
func (c *Cloud) Seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func (c *Cloud) serve(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	c.mu.Lock()
	c.seen = append(c.seen, r.Method+" "+host+" "+r.URL.Path)
	c.mu.Unlock()
	switch host {
	case "kms.us-east-1.amazonaws.com":
		c.AWS.serve(w, r)
	case "cloudkms.googleapis.com", "oauth2.googleapis.com":
		c.GCP.serve(w, r)
	case "login.microsoftonline.com", "myvault.vault.azure.net":
		c.Azure.serve(w, r)
	case "vault.example.test":
		c.Vault.serve(w, r)
	default:
		http.Error(w, "no fake for "+host, http.StatusMisdirectedRequest)
	}
}

func certificate(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sopstest fake cloud"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              Hosts,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// writeJSON answers v as JSON with a status and content type.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return a[7:]
	}
	return ""
}
