package build

import "testing"

func TestCopyTarget(t *testing.T) {
	tests := []struct {
		to      string
		rel     string
		dir     bool
		wantErr bool
	}{
		{"@artifact/", "", true, false},
		{"@artifact", "", true, false},
		{"@artifact/base/", "base/", true, false},
		{"@artifact/app.yaml", "app.yaml", false, false},
		{"@other/x", "", false, true},
		{"@artifact/../escape", "", false, true},
	}
	for _, tt := range tests {
		rel, dir, err := copyTarget(tt.to)
		if (err != nil) != tt.wantErr {
			t.Errorf("copyTarget(%q) err = %v, want error %v", tt.to, err, tt.wantErr)
			continue
		}
		if err == nil && (rel != tt.rel || dir != tt.dir) {
			t.Errorf("copyTarget(%q) = %q, %v; want %q, %v", tt.to, rel, dir, tt.rel, tt.dir)
		}
	}
}

func TestSelectionRoot(t *testing.T) {
	for rel, want := range map[string]string{
		"apps/base/**":     "apps/base",
		"apps/*.yaml":      "apps",
		"*.yaml":           ".",
		"apps/app.yaml":    "apps/app.yaml",
		"apps/[ab]/x.yaml": "apps",
	} {
		if got := selectionRoot(rel); got != want {
			t.Errorf("selectionRoot(%q) = %q, want %q", rel, got, want)
		}
	}
}

// Excludes match the source path or the path below the selection root.
func TestCopierExcluded(t *testing.T) {
	c := &copier{selRoot: "apps/base", exclude: []string{"**/*_test.yaml", "secret.yaml"}}
	for src, want := range map[string]bool{
		"apps/base/a/x_test.yaml": true,
		"apps/base/secret.yaml":   true,
		"apps/base/a/secret.yaml": false,
		"apps/base/deploy.yaml":   false,
	} {
		if got := c.excluded(src); got != want {
			t.Errorf("excluded(%q) = %v, want %v", src, got, want)
		}
	}
}
