package testcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Extra API server flags pass through without dashes; a flag that is not
// name=value on one line is refused (up.sh splits them by line); the
// authentication config is written to a file that Stop removes.
func TestAPIServerArgs(t *testing.T) {
	state := t.TempDir()
	c := &Cluster{Name: "x"}
	args, err := c.apiServerArgs(state, Options{APIServerArgs: []string{"--v=2"}, AuthenticationConfig: "kind: AuthenticationConfiguration\n"})
	if err != nil {
		t.Fatal(err)
	}
	want := "authentication-config=" + filepath.Join(state, "config", "x-authentication.yaml")
	if len(args) != 2 || args[0] != "v=2" || args[1] != want {
		t.Fatalf("args %q", args)
	}
	if data, err := os.ReadFile(strings.TrimPrefix(args[1], "authentication-config=")); err != nil || string(data) != "kind: AuthenticationConfiguration\n" {
		t.Errorf("config file: %q %v", data, err)
	}
	if len(c.files) != 1 {
		t.Errorf("the file is not recorded for Stop to remove")
	}
	for _, bad := range []string{"no-value", "a=b\nc=d"} {
		if _, err := c.apiServerArgs(state, Options{APIServerArgs: []string{bad}}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
