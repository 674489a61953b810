package auth_test

import (
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// With auth kubeconfig (the CLI, and the action's default) an exec
// credential plugin runs as kubectl runs it — aws eks get-token,
// gke-gcloud-auth-plugin and kubelogin work wherever they are installed —
// and its token reaches the API server.
func TestKubeconfigExecPlugin(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"major":"1","minor":"36","gitVersion":"v1.36.5"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	plugin := filepath.Join(dir, "get-token")
	script := "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-exec-plugin\"}}'\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	kubeconfig := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + srv.URL + `", certificate-authority-data: "` + ca + `"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "` + plugin + `", interactiveMode: Never}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	cfg, err := auth.RESTConfig(t.Context(), auth.Options{Mode: auth.ModeKubeconfig, Kubeconfig: cluster.KubeconfigOptions{Content: kubeconfig}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(cfg).Discovery().ServerVersion(); err != nil {
		t.Fatal(err)
	}
	if got.Load() != "Bearer from-exec-plugin" {
		t.Errorf("Authorization %q, want the exec plugin's token", got.Load())
	}
}
