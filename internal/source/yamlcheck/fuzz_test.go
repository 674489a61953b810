package yamlcheck

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheck: whatever bytes a repository holds, checking them returns
// documents or an error, never panics, and reports lines inside the input.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "fleet", "apps", "*", "*", "*.yaml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [x]\nb: [*a, *a]\n"))
	f.Add([]byte("a: 1\na: 2\n"))
	f.Add([]byte("--- !!binary\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Check(data)
		if err != nil {
			if le, ok := err.(*LineError); ok && le.Line < 0 {
				t.Fatalf("negative line in %v", err)
			}
			return
		}
		for _, d := range docs {
			if d.Line < 1 {
				t.Fatalf("document without a line: %+v", d)
			}
		}
	})
}
