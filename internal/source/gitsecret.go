package source

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/kube"
)

// SecretLookup finds a Secret (kind "Secret") of the cluster path: in the
// build output, the external-objects files or the cluster.
type SecretLookup func(kind, namespace, name string) (*unstructured.Unstructured, bool)

// SecretRefError says a GitRepository's spec.secretRef cannot be used.
type SecretRefError struct {
	Namespace, Name string
	// NotFound: no such Secret anywhere slipway looked (it may yet come
	// from a Kustomization not built).
	NotFound bool
	Reason   string
}

func (e *SecretRefError) Error() string {
	return fmt.Sprintf("secretRef %s/%s: %s", e.Namespace, e.Name, e.Reason)
}

// GitAuthFromSecret reads the credentials a GitRepository's spec.secretRef
// names, with source-controller's keys: username and password (HTTPS basic
// auth), bearerToken, ca.crt (or the older caFile); identity and
// known_hosts for SSH. Values never reach an error message.
func GitAuthFromSecret(lookup SecretLookup, namespace, name string) (*GitAuth, *SSHAuth, error) {
	fail := func(notFound bool, reason string) error {
		return &SecretRefError{Namespace: namespace, Name: name, NotFound: notFound, Reason: reason}
	}
	var u *unstructured.Unstructured
	ok := false
	if lookup != nil {
		u, ok = lookup("Secret", namespace, name)
	}
	if !ok {
		return nil, nil, fail(true, "no such Secret in the cluster path, the external objects or the cluster")
	}
	v := kube.DataValues(u)
	auth := &GitAuth{Username: v["username"], Password: v["password"], BearerToken: v["bearerToken"],
		From: "Secret " + namespace + "/" + name}
	if ca := v["ca.crt"]; ca != "" {
		auth.CABundle = []byte(ca)
	} else if ca := v["caFile"]; ca != "" {
		auth.CABundle = []byte(ca)
	}
	var ssh *SSHAuth
	if v["identity"] != "" {
		ssh = &SSHAuth{Identity: []byte(v["identity"]), Password: v["password"], KnownHosts: []byte(v["known_hosts"]), From: auth.From}
	}
	if auth.BearerToken != "" && (auth.Username != "" || auth.Password != "") && ssh == nil {
		return nil, nil, fail(false, "has both bearerToken and username/password; keep one")
	}
	if !auth.sendsCredentials() && ssh == nil && len(auth.CABundle) == 0 {
		return nil, nil, fail(false, "has none of username/password, bearerToken, identity or ca.crt")
	}
	return auth, ssh, nil
}

// SSHAuth is what an SSH Git source authenticates with: Flux's identity
// (a private key) and known_hosts Secret keys.
type SSHAuth struct {
	Identity []byte
	// Password decrypts an encrypted identity.
	Password   string
	KnownHosts []byte
	From       string
}
