package auth_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/fakests"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

const (
	roleARN = "arn:aws:iam::" + fakests.Account + ":role/slipway-deployer"
	eksName = "prod-cluster"
)

type eksWorld struct {
	iss    *oidcissuer.Issuer
	runner *oidcissuer.Runner
	sts    *fakests.STS
	authn  *fakests.Authenticator
}

// newEKSWorld: the role's trust policy allows acme/fleet's prod
// environment only.
func newEKSWorld(t *testing.T) *eksWorld {
	w := &eksWorld{iss: oidcissuer.New(t)}
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	w.runner = w.iss.NewRunner(t, prod, 10*time.Minute)
	w.sts = fakests.NewSTS(t, "eu-west-1", roleARN, w.iss.Verify, prod.Subject())
	w.authn = fakests.NewAuthenticator(t, w.sts, eksName)
	return w
}

func (w *eksWorld) options(server, ca string) auth.Options {
	return auth.Options{
		Mode: auth.ModeEKS, Server: server, CertificateAuthority: ca, Getenv: getenv(w.runner.Env()),
		EKS: auth.EKSOptions{RoleARN: roleARN, Region: "eu-west-1", ClusterName: eksName, STSEndpoint: w.sts.URL, HTTPClient: w.sts.Client(), SessionName: "slipway-42"},
	}
}

// The whole EKS chain without a cluster: the runner's token for audience
// sts.amazonaws.com is exchanged for the role's credentials, a
// GetCallerIdentity presigned for the cluster becomes the bearer token, and
// an API server verifying it like EKS (through the fake STS, which checks
// the SigV4 signature) sees the role.
func TestEKSTokenVerifiesAgainstSTS(t *testing.T) {
	w := newEKSWorld(t)
	var seen string
	api := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		user, err := w.authn.Authenticate(tok)
		if err != nil {
			http.Error(rw, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
			return
		}
		seen = tok
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(authenticationv1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{Kind: "SelfSubjectReview", APIVersion: "authentication.k8s.io/v1"}, Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: user}}})
	}))
	defer api.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}))

	var user string
	o := w.options(api.URL, ca)
	o.OnAuthenticated = func(u string) { user = u }
	if _, err := auth.RESTConfig(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if user != roleARN {
		t.Errorf("authenticated as %q, want %s", user, roleARN)
	}
	if !strings.HasPrefix(seen, auth.EKSTokenPrefix) || strings.HasSuffix(seen, "=") {
		t.Errorf("token %q: want k8s-aws-v1. and unpadded base64url", seen[:20])
	}
	if w.sts.Calls("AssumeRoleWithWebIdentity") != 1 || w.sts.Calls("GetCallerIdentity") != 1 {
		t.Errorf("STS calls: assume %d, get-caller-identity %d", w.sts.Calls("AssumeRoleWithWebIdentity"), w.sts.Calls("GetCallerIdentity"))
	}

	// The signature covers the cluster header: another cluster's
	// authenticator (sending its own name) gets SignatureDoesNotMatch.
	if _, err := fakests.NewAuthenticator(t, w.sts, "other-cluster").Authenticate(seen); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("the token was accepted for another cluster: %v", err)
	}

	// Another environment: the role's trust policy refuses the exchange.
	w.runner.SetClaims(oidcissuer.Claims{Repository: "acme/fleet", Environment: "staging", Ref: "refs/heads/main"})
	if _, err := auth.RESTConfig(t.Context(), w.options(api.URL, ca)); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("staging: %v, want STS AccessDenied", err)
	}
}

// On a real API server whose webhook token authenticator verifies EKS
// tokens against the fake STS, the role mapped by RBAC reads what it is
// bound to.
func TestEKSAgainstAPIServer(t *testing.T) {
	w := newEKSWorld(t)
	c := testcluster.ForWebhookAuth(t, w.authn.ConfigFile(t), roleARN, "view")
	ctx := t.Context()
	kc := oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig)
	o := w.options("", "")
	o.Kubeconfig.Content = kc
	var user string
	o.OnAuthenticated = func(u string) { user = u }
	cfg, err := auth.RESTConfig(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if user != roleARN {
		t.Errorf("authenticated as %q", user)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().ConfigMaps("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("listing as the role: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("creating as the view role: %v, want 403", err)
	}
}
