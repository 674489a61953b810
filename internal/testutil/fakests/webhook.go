package fakests

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil/tokenwebhook"
)

// Authenticator is a webhook token authenticator for kube-apiserver
// (--authentication-token-webhook-config-file) that accepts EKS tokens for
// one cluster, as EKS's aws-iam-authenticator: the token is a presigned
// GetCallerIdentity URL of the trusted STS, which it calls with the
// cluster's x-k8s-aws-id; the caller's role becomes the username
// arn:aws:iam::ACCOUNT:role/ROLE.
type Authenticator struct {
	Cluster string
	sts     *STS
}

// NewAuthenticator is the authenticator of cluster, trusting s.
func NewAuthenticator(t testing.TB, s *STS, cluster string) *Authenticator {
	return &Authenticator{Cluster: cluster, sts: s}
}

// ConfigFile starts the webhook over TLS on loopback and returns the
// kubeconfig-format file kube-apiserver reads to reach it.
func (a *Authenticator) ConfigFile(t testing.TB) string {
	t.Helper()
	return tokenwebhook.ConfigFile(t, "eks-authenticator", a.Authenticate)
}

// Authenticate verifies an EKS token and returns the username.
func (a *Authenticator) Authenticate(token string) (string, error) {
	rest, ok := strings.CutPrefix(token, "k8s-aws-v1.")
	if !ok {
		return "", fmt.Errorf("not an EKS token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("token is not base64url without padding")
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return "", err
	}
	// Only the trusted STS: a token must not make the authenticator call
	// an address of the token's choosing.
	sts, _ := url.Parse(a.sts.URL)
	q := u.Query()
	if u.Scheme != "https" || u.Host != sts.Host || q.Get("Action") != "GetCallerIdentity" || !strings.Contains(q.Get("X-Amz-SignedHeaders"), "x-k8s-aws-id") {
		return "", fmt.Errorf("not a presigned GetCallerIdentity of the trusted STS")
	}
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("x-k8s-aws-id", a.Cluster)
	resp, err := a.sts.Client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("STS answered %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Arn string `xml:"GetCallerIdentityResult>Arn"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		return "", err
	}
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION -> the role's ARN.
	parts := strings.Split(strings.TrimPrefix(out.Arn, "arn:aws:sts::"+Account+":assumed-role/"), "/")
	if len(parts) != 2 {
		return "", fmt.Errorf("unexpected caller %s", out.Arn)
	}
	return "arn:aws:iam::" + Account + ":role/" + parts[0], nil
}
