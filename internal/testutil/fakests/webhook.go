package fakests

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// Authenticator is a webhook token authenticator for kube-apiserver
// (--authentication-token-webhook-config-file) that accepts EKS tokens for
// one cluster, as EKS's aws-iam-authenticator: the token is a presigned
// GetCallerIdentity URL of the trusted STS, which it calls with the
// cluster's x-k8s-aws-id; the caller's role becomes the username
// arn:aws:iam::ACCOUNT:role/ROLE.
type Authenticator struct {
	URL     string
	Cluster string
	sts     *STS
	srv     *httptest.Server
}

// NewAuthenticator starts the webhook over TLS on loopback.
func NewAuthenticator(t testing.TB, s *STS, cluster string) *Authenticator {
	t.Helper()
	a := &Authenticator{Cluster: cluster, sts: s}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	a.URL = a.srv.URL
	t.Cleanup(a.srv.Close)
	return a
}

// ConfigFile writes the kubeconfig-format file kube-apiserver reads to
// reach the webhook, and returns its path.
func (a *Authenticator) ConfigFile(t testing.TB) string {
	t.Helper()
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw}))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: eks-authenticator, cluster: {server: "%s/authenticate", certificate-authority-data: "%s"}}]
users: [{name: apiserver, user: {}}]
contexts: [{name: webhook, context: {cluster: eks-authenticator, user: apiserver}}]
current-context: webhook
`, a.URL, ca)
	path := filepath.Join(t.TempDir(), "eks-webhook.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (a *Authenticator) serve(w http.ResponseWriter, r *http.Request) {
	var review authenticationv1.TokenReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	user, err := a.Authenticate(review.Spec.Token)
	review.Status = authenticationv1.TokenReviewStatus{Authenticated: err == nil}
	if err != nil {
		review.Status.Error = err.Error()
	} else {
		review.Status.User = authenticationv1.UserInfo{Username: user, Groups: []string{"system:authenticated"}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
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
