package oidcissuer

import (
	"os"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigWithoutCredentials returns the kubeconfig at path with its CA
// files inlined and its users' credentials removed: what a workflow using
// auth github-oidc keeps in plain text.
func KubeconfigWithoutCredentials(t testing.TB, path string) string {
	t.Helper()
	raw, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range raw.Clusters {
		if cl.CertificateAuthority != "" {
			data, err := os.ReadFile(cl.CertificateAuthority)
			if err != nil {
				t.Fatal(err)
			}
			cl.CertificateAuthorityData, cl.CertificateAuthority = data, ""
		}
	}
	for name := range raw.AuthInfos {
		raw.AuthInfos[name] = clientcmdapi.NewAuthInfo()
	}
	out, err := clientcmd.Write(*raw)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
