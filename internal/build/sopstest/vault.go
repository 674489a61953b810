package sopstest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// VaultTransit is Vault's transit secrets engine decrypt endpoint
// (https://developer.hashicorp.com/vault/api-docs/secret/transit#decrypt-data):
// PUT or POST /v1/transit/decrypt/:name with the token in X-Vault-Token and
// {"ciphertext": "vault:v1:..."}; the answer's data.plaintext is base64.
type VaultTransit struct {
	Token string
	// Keys maps "name ciphertext" to the data key.
	Keys map[string][]byte
}

func (f *VaultTransit) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		writeJSON(w, status, "application/json", map[string][]string{"errors": {msg}})
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/v1/transit/decrypt/")
	if !ok || (r.Method != http.MethodPut && r.Method != http.MethodPost) {
		fail(http.StatusNotFound, "no handler for route")
		return
	}
	if f.Token == "" || r.Header.Get("X-Vault-Token") != f.Token {
		fail(http.StatusForbidden, "permission denied")
		return
	}
	var req struct {
		Ciphertext string `json:"ciphertext"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !strings.HasPrefix(req.Ciphertext, "vault:v") {
		fail(http.StatusBadRequest, "invalid ciphertext: no prefix")
		return
	}
	plain, ok := f.Keys[name+" "+req.Ciphertext]
	if !ok {
		fail(http.StatusBadRequest, "cipher: message authentication failed")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"data": map[string]string{"plaintext": base64.StdEncoding.EncodeToString(plain)}})
}
