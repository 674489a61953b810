package build_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRemoteFilesRefusedBeforeAnyRequest: kustomize's loader downloads any
// http(s) URL given where it expects a file, not only remote bases. Each
// such place is refused, naming the kustomization file, without a single
// request reaching the server, unless remote bases are allowed.
func TestRemoteFilesRefusedBeforeAnyRequest(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n  namespace: default\n"))
	}))
	t.Cleanup(srv.Close)
	u := srv.URL + "/file.yaml"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  namespace: default\n"
	cases := map[string]string{
		"resource":              "resources:\n  - " + u + "\n",
		"generator-files":       "configMapGenerator:\n  - name: g\n    namespace: default\n    files:\n      - " + u + "\n",
		"generator-files-key":   "configMapGenerator:\n  - name: g\n    namespace: default\n    files:\n      - key=" + u + "\n",
		"generator-envs":        "secretGenerator:\n  - name: g\n    namespace: default\n    envs:\n      - " + u + "\n",
		"patch-path":            "resources:\n  - cm.yaml\npatches:\n  - path: " + u + "\n",
		"patches-strategic":     "resources:\n  - cm.yaml\npatchesStrategicMerge:\n  - " + u + "\n",
		"patch-json6902":        "resources:\n  - cm.yaml\npatchesJson6902:\n  - target: {kind: ConfigMap, name: local}\n    path: " + u + "\n",
		"crds":                  "resources:\n  - cm.yaml\ncrds:\n  - " + u + "\n",
		"configurations":        "resources:\n  - cm.yaml\nconfigurations:\n  - " + u + "\n",
		"replacements":          "resources:\n  - cm.yaml\nreplacements:\n  - path: " + u + "\n",
		"openapi":               "resources:\n  - cm.yaml\nopenapi:\n  path: " + u + "\n",
		"transformers":          "resources:\n  - cm.yaml\ntransformers:\n  - " + u + "\n",
		"components-git":        "components:\n  - https://github.com/example-org/base//c?ref=v1\n",
		"nested-generator-file": "resources:\n  - sub\n",
	}
	for name, kfile := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"clusters/test/kustomization.yaml": kfile, "clusters/test/cm.yaml": cm}
			wantFile := "clusters/test/kustomization.yaml"
			if name == "nested-generator-file" {
				files["clusters/test/sub/kustomization.yaml"] = cases["generator-files"]
				wantFile = "clusters/test/sub/kustomization.yaml"
			}
			writeTree(t, dir, files)
			before := hits.Load()
			cb := buildOne(t, dir, "clusters/test", buildConfig{})
			if n := hits.Load() - before; n != 0 {
				t.Fatalf("%d request(s) reached the server", n)
			}
			var hit bool
			for _, f := range errorFindings(cb) {
				if f.Origin.File == wantFile && strings.Contains(f.Message, "--allow-remote-bases") {
					hit = true
				}
			}
			if !hit {
				t.Errorf("want a finding at %s naming --allow-remote-bases, got:\n%s", wantFile, findingsText(cb))
			}
		})
	}
	// The control: allowed, kustomize does fetch such a file, so the
	// refusal above is what kept the request from happening.
	t.Run("allowed", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"clusters/test/kustomization.yaml": cases["generator-files"]})
		before := hits.Load()
		cb := buildOne(t, dir, "clusters/test", buildConfig{allowRemote: true})
		if n := hits.Load() - before; n == 0 {
			t.Errorf("with remote bases allowed the file must be fetched; findings:\n%s", findingsText(cb))
		}
	})
}
