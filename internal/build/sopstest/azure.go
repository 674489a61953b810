package sopstest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// AzureKeyVault is Microsoft Entra ID's client-credentials flow
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
// with the instance discovery and OpenID metadata MSAL reads first) and
// Key Vault's decrypt
// (https://learn.microsoft.com/rest/api/keyvault/keys/decrypt/decrypt:
// POST /keys/{name}/{version}/decrypt, RSA-OAEP-256, after the 401
// challenge naming the tenant the Key Vault SDK expects).
type AzureKeyVault struct {
	TenantID, ClientID, ClientSecret string
	// Keys maps "name/version value" (value base64url) to the data key.
	Keys map[string][]byte
}

const azureToken = "fake-entra-access-token"

func (f *AzureKeyVault) serve(w http.ResponseWriter, r *http.Request) {
	if r.Host == "login.microsoftonline.com" {
		f.login(w, r)
		return
	}
	fail := func(status int, code, msg string) {
		writeJSON(w, status, "application/json", map[string]any{"error": map[string]string{"code": code, "message": msg}})
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/keys/")
	rest, isDecrypt := strings.CutSuffix(rest, "/decrypt")
	if !ok || !isDecrypt || r.Method != http.MethodPost || r.URL.Query().Get("api-version") == "" {
		fail(http.StatusNotFound, "NotFound", "not a key decrypt request")
		return
	}
	if bearer(r) != azureToken {
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/`+f.TenantID+`", resource="https://vault.azure.net"`)
		fail(http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	var req struct {
		Alg   string `json:"alg"`
		Value string `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Alg != "RSA-OAEP-256" {
		fail(http.StatusBadRequest, "BadParameter", "alg must be RSA-OAEP-256")
		return
	}
	plain, ok := f.Keys[rest+" "+req.Value]
	if !ok {
		fail(http.StatusBadRequest, "BadParameter", "The parameter is incorrect.")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"kid": "https://myvault.vault.azure.net/keys/" + rest, "value": base64.RawURLEncoding.EncodeToString(plain)})
}

func (f *AzureKeyVault) login(w http.ResponseWriter, r *http.Request) {
	base := "https://login.microsoftonline.com/" + f.TenantID
	switch {
	case r.URL.Path == "/common/discovery/instance":
		writeJSON(w, http.StatusOK, "application/json", map[string]any{
			"tenant_discovery_endpoint": base + "/v2.0/.well-known/openid-configuration", "api-version": "1.1",
			"metadata": []map[string]any{{"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
				"aliases": []string{"login.microsoftonline.com", "login.windows.net"}}}})
	case r.URL.Path == "/"+f.TenantID+"/v2.0/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, "application/json", map[string]any{
			"token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer": base + "/v2.0", "tenant_region_scope": "EU"})
	case r.URL.Path == "/"+f.TenantID+"/oauth2/v2.0/token" && r.Method == http.MethodPost:
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != f.ClientID ||
			r.PostForm.Get("client_secret") != f.ClientSecret || strings.Fields(r.PostForm.Get("scope"))[0] != "https://vault.azure.net/.default" {
			writeJSON(w, http.StatusUnauthorized, "application/json", map[string]string{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
			return
		}
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"access_token": azureToken, "token_type": "Bearer", "expires_in": 3600})
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}
