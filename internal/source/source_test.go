package source

import "testing"

func TestCleanRelative(t *testing.T) {
	ok := map[string]string{"./apps": "apps", "apps/": "apps", "/apps": "apps", "./": ".", "": ".", "a/./b/../c": "a/c"}
	for in, want := range ok {
		got, err := CleanRelative(in)
		if err != nil || got != want {
			t.Errorf("CleanRelative(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"..", "../x", "a/../../x", "./../../etc"} {
		if _, err := CleanRelative(bad); err == nil {
			t.Errorf("CleanRelative(%q) accepted a path escaping the root", bad)
		}
	}
}

func TestNormalizeURL(t *testing.T) {
	same := []string{
		"https://github.com/Example-Org/fleet.git",
		"https://github.com/example-org/fleet",
		"ssh://git@github.com/example-org/fleet",
		"ssh://git@github.com:22/example-org/fleet.git",
		"git@github.com:example-org/fleet.git",
		"http://token@github.com/example-org/fleet/",
	}
	want := NormalizeURL(same[0])
	for _, u := range same[1:] {
		if got := NormalizeURL(u); got != want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", u, got, want)
		}
	}
	if NormalizeURL("https://github.com/example-org/other") == want {
		t.Error("different repositories compare equal")
	}
}

func TestIsRemote(t *testing.T) {
	for _, r := range []string{"https://github.com/o/r//deploy?ref=v1", "github.com/o/r/deploy?ref=v1", "git@github.com:o/r.git", "ssh://git@host/o/r"} {
		if !IsRemote(r) {
			t.Errorf("IsRemote(%q) = false", r)
		}
	}
	for _, r := range []string{"../base", "deployment.yaml", "./components/ha"} {
		if IsRemote(r) {
			t.Errorf("IsRemote(%q) = true", r)
		}
	}
}
