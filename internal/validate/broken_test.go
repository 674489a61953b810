package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// TestBrokenRepositories validates every repository under
// testdata/broken/<case>/repo and compares the findings with
// testdata/broken/<case>/findings.txt. A case may hold args.txt with lines
// "path=...", "kubernetes-version=...", "max-file-size=...".
func TestBrokenRepositories(t *testing.T) {
	root := testutil.RepoRoot(t)
	cases, err := filepath.Glob(filepath.Join(root, "testdata", "broken", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases under testdata/broken")
	}
	for _, dir := range cases {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var o testutil.BuildOptions
			k8s := ""
			if data, err := os.ReadFile(filepath.Join(dir, "args.txt")); err == nil {
				for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
					k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
					switch k {
					case "path":
						o.Paths = append(o.Paths, v)
					case "kubernetes-version":
						k8s = v
					case "age-key-file":
						o.AgeKeyFile = filepath.Join(root, v)
					case "max-file-size":
						var n int64
						for _, c := range v {
							n = n*10 + int64(c-'0')
						}
						o.MaxFileSize = n
					}
				}
			}
			got, _ := testutil.Validate(t, filepath.Join(dir, "repo"), o, k8s)
			if !strings.Contains(got, "✗") && !strings.HasPrefix(got, "error:") {
				t.Errorf("a broken repository must produce at least one error; got:\n%s", got)
			}
			testutil.Golden(t, filepath.Join(dir, "findings.txt"), got)
		})
	}
}
