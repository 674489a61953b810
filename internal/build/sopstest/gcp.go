package sopstest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
)

// GCPKMS is Google's OAuth 2.0 token endpoint for service accounts
// (https://developers.google.com/identity/protocols/oauth2/service-account:
// a JWT-bearer grant whose assertion the service account's key signed)
// and Cloud KMS's REST decrypt
// (https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/decrypt:
// POST /v1/{name}:decrypt with the access token as bearer).
type GCPKMS struct {
	// CredentialsJSON is a service account key file for the fake: what a
	// Flux decryption Secret's sops.gcp-kms key holds.
	CredentialsJSON []byte
	// Keys maps "resource ciphertext" to the data key.
	Keys map[string][]byte

	key         *rsa.PrivateKey
	email       string
	accessToken string
}

func newGCPKMS(t testing.TB) *GCPKMS {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &GCPKMS{Keys: map[string][]byte{}, key: key, email: "sops@fake-project.iam.gserviceaccount.com", accessToken: "ya29.fake-gcp-access-token"}
	f.CredentialsJSON, _ = json.Marshal(map[string]string{
		"type": "service_account", "project_id": "fake-project", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": f.email, "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
	})
	return f
}

func (f *GCPKMS) serve(w http.ResponseWriter, r *http.Request) {
	if r.Host == "oauth2.googleapis.com" {
		f.token(w, r)
		return
	}
	fail := func(status int, msg string) {
		writeJSON(w, status, "application/json", map[string]any{"error": map[string]any{"code": status, "message": msg}})
	}
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), ":decrypt")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.URL.Path, "/v1/projects/") {
		fail(http.StatusNotFound, "not a cryptoKeys.decrypt request")
		return
	}
	if bearer(r) != f.accessToken {
		fail(http.StatusUnauthorized, "Request had invalid authentication credentials.")
		return
	}
	var req struct {
		Ciphertext []byte `json:"ciphertext"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Ciphertext) == 0 {
		fail(http.StatusBadRequest, "ciphertext is required")
		return
	}
	plain, ok := f.Keys[name+" "+string(req.Ciphertext)]
	if !ok {
		fail(http.StatusBadRequest, "Decryption failed: the ciphertext is invalid.")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"plaintext": base64.StdEncoding.EncodeToString(plain)})
}

// token grants an access token for an assertion the service account's
// key signed, for the KMS scope.
func (f *GCPKMS) token(w http.ResponseWriter, r *http.Request) {
	fail := func(msg string) {
		writeJSON(w, http.StatusBadRequest, "application/json", map[string]string{"error": "invalid_grant", "error_description": msg})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/token" || r.ParseForm() != nil ||
		r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		fail("not a JWT-bearer grant")
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		fail("assertion is not a JWT")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		fail("Invalid JWT Signature.")
		return
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss, Aud, Scope string
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss != f.email || claims.Aud != "https://oauth2.googleapis.com/token" ||
		!strings.Contains(claims.Scope, "https://www.googleapis.com/auth/cloudkms") {
		fail("Invalid JWT: wrong issuer, audience or scope")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"access_token": f.accessToken, "token_type": "Bearer", "expires_in": 3600})
}
