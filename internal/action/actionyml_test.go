package action_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// TestActionYMLAgreesWithCode: every input the code reads is declared in
// action.yml, and every declared input is read — a renamed or forgotten
// input fails here, not in a user's workflow. (The runner only passes
// declared inputs; an undeclared one reads as empty, silently.)
func TestActionYMLAgreesWithCode(t *testing.T) {
	root := testutil.RepoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs  map[string]struct{ Description string } `json:"inputs"`
		Outputs map[string]struct{ Description string } `json:"outputs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	// Inputs are read as rt.Input("name") or boolInput(rt, "name", …);
	// outputs written with SetOutput or the outputs table ({"name", value}).
	readRe := regexp.MustCompile(`(?:\.Input\(|boolInput\(rt, )"([a-z0-9-]+)"`)
	read := map[string]bool{}
	var src strings.Builder
	for _, dir := range []string{"internal/action", "internal/github"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
			for _, m := range readRe.FindAllStringSubmatch(string(b), -1) {
				read[m[1]] = true
			}
		}
	}
	if len(read) < 5 {
		t.Fatalf("found only %d input reads in the code: the pattern no longer matches how inputs are read", len(read))
	}
	var undeclared, unread []string
	for name := range read {
		if _, ok := action.Inputs[name]; !ok {
			undeclared = append(undeclared, name)
		}
	}
	for name, in := range action.Inputs {
		if !read[name] {
			unread = append(unread, name)
		}
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	sort.Strings(undeclared)
	sort.Strings(unread)
	if len(undeclared) > 0 {
		t.Errorf("the code reads inputs action.yml does not declare: %v", undeclared)
	}
	if len(unread) > 0 {
		t.Errorf("action.yml declares inputs the code never reads: %v", unread)
	}
	for name := range action.Outputs {
		if !strings.Contains(src.String(), `"`+name+`"`) {
			t.Errorf("action.yml declares output %s, which the code never sets", name)
		}
	}
}
