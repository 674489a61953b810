// Package tokenwebhook serves kube-apiserver's webhook token
// authentication (--authentication-token-webhook-config-file) for tests:
// the clouds' fakes (EKS, GKE, AKS) say who a bearer token belongs to, as
// the clouds' own authenticators do in front of their API servers.
package tokenwebhook

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// ConfigFile starts, over TLS on loopback, a webhook answering
// TokenReviews with authenticate (the username of a token, or why it is
// refused), and returns the path of the kubeconfig-format file
// kube-apiserver reads to reach it. name names the webhook's cluster entry
// and file.
func ConfigFile(t testing.TB, name string, authenticate func(token string) (string, error)) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		user, err := authenticate(review.Spec.Token)
		review.Status = authenticationv1.TokenReviewStatus{Authenticated: err == nil}
		if err != nil {
			review.Status.Error = err.Error()
		} else {
			review.Status.User = authenticationv1.UserInfo{Username: user, Groups: []string{"system:authenticated"}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}))
	t.Cleanup(srv.Close)
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: %[1]s, cluster: {server: "%[2]s/authenticate", certificate-authority-data: "%[3]s"}}]
users: [{name: apiserver, user: {}}]
contexts: [{name: webhook, context: {cluster: %[1]s, user: apiserver}}]
current-context: webhook
`, name, srv.URL, ca)
	path := filepath.Join(t.TempDir(), name+"-webhook.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
