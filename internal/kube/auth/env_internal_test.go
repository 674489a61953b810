package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The clouds' own variables fill what the options leave empty, for the
// action and the CLI alike; what the options say wins.
func TestFromEnvironment(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_RUN_ID":                 "77",
		EnvGoogleSTSEndpoint:            "https://sts.example.test/",
		EnvGoogleIAMCredentialsEndpoint: "https://iam.example.test",
		EnvAzureAuthorityHost:           "https://login.example.test/",
	}
	getenv := func(k string) string { return env[k] }

	o, err := fromEnvironment(Options{Mode: ModeEKS, Getenv: getenv})
	if err != nil || o.EKS.SessionName != "slipway-77" {
		t.Errorf("eks: session %q, %v", o.EKS.SessionName, err)
	}
	o, err = fromEnvironment(Options{Mode: ModeGKE, Getenv: getenv})
	if err != nil || o.GKE.STSURL != "https://sts.example.test/v1/token" || o.GKE.IAMCredentialsURL != "https://iam.example.test" || o.GKE.HTTPClient != nil {
		t.Errorf("gke: %+v, %v", o.GKE, err)
	}
	o, err = fromEnvironment(Options{Mode: ModeGKE, GKE: GKEOptions{STSURL: "https://given/v1/token"}, Getenv: getenv})
	if err != nil || o.GKE.STSURL != "https://given/v1/token" {
		t.Errorf("gke: the option given lost to the environment: %q", o.GKE.STSURL)
	}
	o, err = fromEnvironment(Options{Mode: ModeAKS, Getenv: getenv})
	if err != nil || o.AKS.AuthorityHost != "https://login.example.test/" {
		t.Errorf("aks: %+v, %v", o.AKS, err)
	}
	env[EnvAzureCABundle] = bad
	if _, err := fromEnvironment(Options{Mode: ModeAKS, Getenv: getenv}); err == nil || !strings.Contains(err.Error(), EnvAzureCABundle) {
		t.Errorf("aks with a bundle holding no certificate: %v", err)
	}
	env[EnvGoogleCABundle] = filepath.Join(t.TempDir(), "missing")
	if _, err := fromEnvironment(Options{Mode: ModeGKE, Getenv: getenv}); err == nil || !strings.Contains(err.Error(), EnvGoogleCABundle) {
		t.Errorf("gke with a missing bundle: %v", err)
	}
	if _, err := fromEnvironment(Options{Mode: ModeKubeconfig, Server: "https://x"}); !errors.Is(err, ErrServerWithKubeconfigAuth) {
		t.Errorf("server with auth kubeconfig: %v", err)
	}
}
