package testcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// HTTPClient returns an HTTP client authenticated as the kubeconfig's user
// (cluster admin) and the API server's base URL, for tests that talk to the
// API directly with the standard library.
func (c *Cluster) HTTPClient(ctx context.Context) (*http.Client, string, error) {
	// kubectl turns the kubeconfig (YAML, file references) into JSON with the
	// certificates inlined, which the standard library can read.
	out, err := c.Kubectl(ctx, "config", "view", "--raw", "--minify", "--flatten", "-o", "json")
	if err != nil {
		return nil, "", err
	}
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server                   string `json:"server"`
				CertificateAuthorityData string `json:"certificate-authority-data"`
				InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				ClientCertificateData string `json:"client-certificate-data"`
				ClientKeyData         string `json:"client-key-data"`
				Token                 string `json:"token"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(out), &kc); err != nil {
		return nil, "", fmt.Errorf("testcluster: parse kubeconfig: %w", err)
	}
	if len(kc.Clusters) != 1 || len(kc.Users) != 1 {
		return nil, "", errors.New("testcluster: kubeconfig has no single current cluster and user")
	}
	cl, user := kc.Clusters[0].Cluster, kc.Users[0].User

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cl.InsecureSkipTLSVerify} //nolint:gosec // only if the kubeconfig says so
	if cl.CertificateAuthorityData != "" {
		ca, err := base64.StdEncoding.DecodeString(cl.CertificateAuthorityData)
		if err != nil {
			return nil, "", fmt.Errorf("testcluster: certificate-authority-data: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, "", errors.New("testcluster: no certificate in certificate-authority-data")
		}
		tlsConfig.RootCAs = pool
	}
	if user.ClientCertificateData != "" {
		certPEM, err := base64.StdEncoding.DecodeString(user.ClientCertificateData)
		if err != nil {
			return nil, "", fmt.Errorf("testcluster: client-certificate-data: %w", err)
		}
		keyPEM, err := base64.StdEncoding.DecodeString(user.ClientKeyData)
		if err != nil {
			return nil, "", fmt.Errorf("testcluster: client-key-data: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, "", fmt.Errorf("testcluster: client certificate: %w", err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}

	var rt http.RoundTripper = &http.Transport{TLSClientConfig: tlsConfig}
	if user.Token != "" {
		rt = bearer{token: user.Token, next: rt}
	}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}, strings.TrimRight(cl.Server, "/"), nil
}

// GetJSON fetches an API path (e.g. "/api/v1/namespaces/default") with the
// client from [Cluster.HTTPClient] and decodes the JSON answer into v. It
// returns the HTTP status code; for statuses other than 200, v is untouched
// and err is nil.
func GetJSON(ctx context.Context, client *http.Client, server, path string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return resp.StatusCode, fmt.Errorf("testcluster: decode %s: %w", path, err)
	}
	return resp.StatusCode, nil
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Connect is slipway's connection to the cluster as its administrator
// (the kubeconfig's user), as the CLI makes it from a kubeconfig.
func (c *Cluster) Connect() (*cluster.Cluster, error) {
	cfg, err := cluster.RESTConfig(cluster.KubeconfigOptions{Path: c.Kubeconfig}, nil)
	if err != nil {
		return nil, err
	}
	return cluster.Connect(cfg)
}
