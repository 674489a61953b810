package cluster_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: USER
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`

func withUser(user string) string {
	return strings.Replace(kubeconfig, "USER", user, 1)
}

// A kubeconfig from repository content may not run a program or read a
// local file (CVE-2022-24817); the same one given by the user may.
func TestRESTConfigRefusesUnsafeUntrusted(t *testing.T) {
	unsafe := map[string]string{
		"exec":        `{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true, interactiveMode: Never}}`,
		"token file":  `{tokenFile: /etc/passwd}`,
		"client cert": `{client-certificate: /etc/passwd, client-key: /etc/passwd}`,
	}
	for name, user := range unsafe {
		_, err := cluster.RESTConfig(cluster.KubeconfigOptions{Content: withUser(user), Untrusted: true}, nil)
		if !errors.Is(err, cluster.ErrUnsafeKubeconfig) {
			t.Errorf("%s, untrusted: %v, want ErrUnsafeKubeconfig", name, err)
		}
	}
	if _, err := cluster.RESTConfig(cluster.KubeconfigOptions{Content: withUser(unsafe["exec"])}, nil); err != nil {
		t.Errorf("exec, trusted: %v", err)
	}
	cfg, err := cluster.RESTConfig(cluster.KubeconfigOptions{Content: withUser(`{token: abc}`), Untrusted: true}, nil)
	if err != nil {
		t.Fatalf("token, untrusted: %v", err)
	}
	if cfg.Host != "https://127.0.0.1:6443" || cfg.QPS != -1 || cfg.UserAgent != "slipway" {
		t.Errorf("config: host %q, QPS %v, user agent %q", cfg.Host, cfg.QPS, cfg.UserAgent)
	}
}

func TestCurrentContext(t *testing.T) {
	got, err := cluster.CurrentContext(cluster.KubeconfigOptions{Content: withUser(`{token: abc}`)}, nil)
	if err != nil || got != "ctx" {
		t.Errorf("current context %q, %v; want ctx", got, err)
	}
	got, err = cluster.CurrentContext(cluster.KubeconfigOptions{Content: withUser(`{token: abc}`), Context: "other"}, nil)
	if err != nil || got != "other" {
		t.Errorf("overridden context %q, %v; want other", got, err)
	}
}
