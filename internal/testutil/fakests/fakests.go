// Package fakests is test infrastructure for auth eks: a fake AWS STS that
// enforces the documented request shapes of AssumeRoleWithWebIdentity and
// of a presigned GetCallerIdentity (SigV4 query signature recomputed with
// the SDK's own signer), and a webhook token authenticator for
// kube-apiserver that verifies EKS tokens against it the way EKS's
// aws-iam-authenticator does. Import it only from _test.go files.
package fakests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Account is the fake AWS account.
const Account = "123456789012"

const stsVersion = "2011-06-15"

// Verifier checks a web identity token for the audience and returns its
// claims (oidcissuer.Issuer.Verify).
type Verifier func(token, audience string) (map[string]any, error)

// STS is a running fake STS.
type STS struct {
	URL    string
	Region string
	// RoleARN is the only role that may be assumed; Subjects are the sub
	// claims its trust policy allows.
	RoleARN  string
	Subjects []string
	srv      *httptest.Server
	verify   Verifier

	mu    sync.Mutex
	creds map[string]aws.Credentials // by access key id
	// Calls counts requests by Action.
	calls map[string]int
}

// NewSTS starts a fake STS over TLS on loopback, stopped with the test.
func NewSTS(t testing.TB, region, roleARN string, verify Verifier, subjects ...string) *STS {
	t.Helper()
	s := &STS{Region: region, RoleARN: roleARN, Subjects: subjects, verify: verify, creds: map[string]aws.Credentials{}, calls: map[string]int{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Client trusts the fake's certificate.
func (s *STS) Client() *http.Client { return s.srv.Client() }

// Calls returns how many requests of an Action were answered successfully.
func (s *STS) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

func (s *STS) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stsError(w, http.StatusBadRequest, "MalformedInput", err.Error())
		return
	}
	switch {
	case r.Method == http.MethodPost && r.PostForm.Get("Action") == "AssumeRoleWithWebIdentity":
		s.assumeRole(w, r)
	case r.Method == http.MethodGet && r.URL.Query().Get("Action") == "GetCallerIdentity":
		s.callerIdentity(w, r)
	default:
		stsError(w, http.StatusBadRequest, "InvalidAction", "unexpected "+r.Method+" "+r.Form.Get("Action"))
	}
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// assumeRole: POST form Action, Version, RoleArn, RoleSessionName,
// WebIdentityToken (unsigned: the token is the credential).
func (s *STS) assumeRole(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	switch {
	case f.Get("Version") != stsVersion:
		stsError(w, http.StatusBadRequest, "InvalidParameterValue", "Version must be "+stsVersion)
		return
	case !sessionNameRE.MatchString(f.Get("RoleSessionName")):
		stsError(w, http.StatusBadRequest, "ValidationError", "RoleSessionName is missing or malformed")
		return
	case f.Get("RoleArn") != s.RoleARN:
		stsError(w, http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	}
	claims, err := s.verify(f.Get("WebIdentityToken"), "sts.amazonaws.com")
	if err != nil {
		stsError(w, http.StatusBadRequest, "InvalidIdentityToken", err.Error())
		return
	}
	if sub, _ := claims["sub"].(string); !slices.Contains(s.Subjects, sub) {
		stsError(w, http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	}
	c := aws.Credentials{AccessKeyID: "ASIA" + strings.ToUpper(rand.Text()[:16]), SecretAccessKey: rand.Text(), SessionToken: rand.Text(), Expires: time.Now().Add(time.Hour)}
	s.mu.Lock()
	s.creds[c.AccessKeyID] = c
	s.calls["AssumeRoleWithWebIdentity"]++
	s.mu.Unlock()
	role := s.RoleARN[strings.LastIndex(s.RoleARN, "/")+1:]
	fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>
    <SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.Expires.UTC().Format(time.RFC3339),
		Account, role, f.Get("RoleSessionName"), f.Get("RoleSessionName"), claims["sub"])
}

// callerIdentity checks a presigned GetCallerIdentity: SigV4 query
// parameters for credentials this STS issued, the cluster header among the
// signed headers and present, not expired, and the signature itself.
func (s *STS) callerIdentity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	s.mu.Lock()
	c, known := s.creds[cred[0]]
	s.mu.Unlock()
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	date, derr := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	switch {
	case q.Get("Version") != stsVersion || q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
		stsError(w, http.StatusBadRequest, "InvalidParameterValue", "not a SigV4 presigned request")
	case len(cred) != 5 || !known || cred[2] != s.Region || cred[3] != "sts" || cred[4] != "aws4_request":
		stsError(w, http.StatusForbidden, "InvalidClientTokenId", "unknown credential scope "+q.Get("X-Amz-Credential"))
	case q.Get("X-Amz-Security-Token") != c.SessionToken:
		stsError(w, http.StatusForbidden, "InvalidClientTokenId", "bad security token")
	case !slices.Contains(signed, "host") || !slices.Contains(signed, "x-k8s-aws-id") || r.Header.Get("x-k8s-aws-id") == "":
		stsError(w, http.StatusForbidden, "SignatureDoesNotMatch", "x-k8s-aws-id must be sent and signed")
	case derr != nil || time.Since(date) > 15*time.Minute:
		stsError(w, http.StatusForbidden, "ExpiredToken", "the presigned request expired")
	case !s.signatureValid(r, c, date):
		stsError(w, http.StatusForbidden, "SignatureDoesNotMatch", "the request signature does not match")
	default:
		s.mu.Lock()
		s.calls["GetCallerIdentity"]++
		s.mu.Unlock()
		role := s.RoleARN[strings.LastIndex(s.RoleARN, "/")+1:]
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Arn>arn:aws:sts::%s:assumed-role/%s/session</Arn><UserId>AROAFAKE:session</UserId><Account>%s</Account></GetCallerIdentityResult>
  <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`, Account, role, Account)
	}
}

// signatureValid presigns the same request again with the SDK's signer
// and the issued secret, and compares signatures.
func (s *STS) signatureValid(r *http.Request, c aws.Credentials, date time.Time) bool {
	q := r.URL.Query()
	got := q.Get("X-Amz-Signature")
	for _, k := range []string{"X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Security-Token"} {
		q.Del(k)
	}
	u := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	req.Header.Set("x-k8s-aws-id", r.Header.Get("x-k8s-aws-id"))
	empty := sha256.Sum256(nil)
	for _, hash := range []string{hex.EncodeToString(empty[:]), "UNSIGNED-PAYLOAD"} {
		signedURL, _, err := v4.NewSigner().PresignHTTP(context.Background(), c, req.Clone(context.Background()), hash, "sts", s.Region, date)
		if err != nil {
			return false
		}
		su, err := url.Parse(signedURL)
		if err == nil && su.Query().Get("X-Amz-Signature") == got {
			return true
		}
	}
	return false
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, code, b.String())
}

// CAPEM is the fake's certificate (its own CA), for AWS_CA_BUNDLE.
func (s *STS) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}
