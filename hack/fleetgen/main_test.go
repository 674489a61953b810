package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// kinds returns the top-level kind of every YAML document in a file. Documents
// are split on "---" lines; a document's kind is its unindented "kind:" line.
func kinds(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, doc := range splitDocs(string(data)) {
		kind := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "kind:") {
				if kind != "" {
					t.Fatalf("%s: document has two top-level kind: lines", path)
				}
				kind = strings.TrimSpace(strings.TrimPrefix(line, "kind:"))
			}
		}
		if kind == "" {
			t.Fatalf("%s: document without top-level kind:\n%s", path, doc)
		}
		out = append(out, kind)
	}
	return out
}

func splitDocs(s string) []string {
	var docs []string
	var cur strings.Builder
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			docs = append(docs, cur.String())
		}
		cur.Reset()
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " ") == "---" {
			flush()
			continue
		}
		cur.WriteString(line + "\n")
	}
	flush()
	return docs
}

// resources returns the "resources:" entries of a kustomization.yaml.
func resources(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "resources:":
			in = true
		case in && strings.HasPrefix(line, "  - "):
			out = append(out, strings.TrimPrefix(line, "  - "))
		case in && line != "" && !strings.HasPrefix(line, " "):
			in = false
		}
	}
	return out
}

func gen(t *testing.T, dir string, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(append([]string{"-out", dir}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
}

func TestGenerate1x3x5(t *testing.T) {
	dir := t.TempDir()
	gen(t, dir, "-clusters", "1", "-kustomizations", "3", "-objects", "5")

	want := []string{
		"clusters/cluster-00/flux-system/gotk-sync.yaml",
		"clusters/cluster-00/flux-system/kustomization.yaml",
		"clusters/cluster-00/flux-system/namespace.yaml",
		"clusters/cluster-00/kustomization.yaml",
		"clusters/cluster-00/cluster-vars.yaml",
		"clusters/cluster-00/kustomizations.yaml",
	}
	for _, app := range []string{"app-000", "app-001", "app-002"} {
		want = append(want,
			"apps/"+app+"/base/kustomization.yaml",
			"apps/"+app+"/base/namespace.yaml",
			"apps/"+app+"/base/deployment.yaml",
			"apps/"+app+"/base/service.yaml",
			"apps/"+app+"/base/configmap.yaml",
			"apps/"+app+"/base/serviceaccount.yaml",
			"apps/"+app+"/overlays/cluster-00/kustomization.yaml",
		)
	}
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("files:\n got %v\nwant %v", got, want)
	}

	c := filepath.Join(dir, "clusters", "cluster-00")
	if k := kinds(t, filepath.Join(c, "flux-system", "gotk-sync.yaml")); strings.Join(k, ",") != "GitRepository,Kustomization" {
		t.Errorf("gotk-sync.yaml kinds = %v", k)
	}
	if k := kinds(t, filepath.Join(c, "cluster-vars.yaml")); strings.Join(k, ",") != "ConfigMap" {
		t.Errorf("cluster-vars.yaml kinds = %v", k)
	}
	ks := kinds(t, filepath.Join(c, "kustomizations.yaml"))
	if len(ks) != 3 {
		t.Errorf("kustomizations.yaml has %d documents, want 3", len(ks))
	}
	for _, k := range ks {
		if k != "Kustomization" {
			t.Errorf("kustomizations.yaml kind %q", k)
		}
	}
	sync, _ := os.ReadFile(filepath.Join(c, "flux-system", "gotk-sync.yaml"))
	for _, s := range []string{"path: ./clusters/cluster-00\n", "url: https://github.com/example-org/fleet-synthetic\n", "branch: main\n"} {
		if !bytes.Contains(sync, []byte(s)) {
			t.Errorf("gotk-sync.yaml lacks %q", s)
		}
	}

	for _, app := range []string{"app-000", "app-001", "app-002"} {
		base := filepath.Join(dir, "apps", app, "base")
		var all []string
		for _, r := range resources(t, filepath.Join(base, "kustomization.yaml")) {
			all = append(all, kinds(t, filepath.Join(base, r))...)
		}
		if got, want := strings.Join(all, ","), "Namespace,Deployment,Service,ConfigMap,ServiceAccount"; got != want {
			t.Errorf("%s objects = %s, want %s", app, got, want)
		}
		ov := filepath.Join(dir, "apps", app, "overlays", "cluster-00", "kustomization.yaml")
		if r := resources(t, ov); len(r) != 1 || r[0] != "../../base" {
			t.Errorf("%s overlay resources = %v", app, r)
		}
		data, _ := os.ReadFile(ov)
		if !bytes.Contains(data, []byte("namespace: "+app+"\n")) || !bytes.Contains(data, []byte("path: /spec/replicas")) {
			t.Errorf("%s overlay lacks namespace or replicas patch:\n%s", app, data)
		}
	}
}

// TestObjectCounts checks exactly K objects per Kustomization for K spanning
// several rounds of the kind cycle.
func TestObjectCounts(t *testing.T) {
	for _, k := range []int{1, 2, 14, 15, 40} {
		dir := t.TempDir()
		gen(t, dir, "-clusters", "2", "-kustomizations", "1", "-objects", strconv.Itoa(k))
		base := filepath.Join(dir, "apps", "app-000", "base")
		n := 0
		names := map[string]bool{}
		for _, r := range resources(t, filepath.Join(base, "kustomization.yaml")) {
			n += len(kinds(t, filepath.Join(base, r)))
			data, _ := os.ReadFile(filepath.Join(base, r))
			for _, doc := range splitDocs(string(data)) {
				kind, name := "", ""
				for _, line := range strings.Split(doc, "\n") {
					if strings.HasPrefix(line, "kind:") {
						kind = line
					}
					if strings.HasPrefix(line, "  name:") && name == "" {
						name = line
					}
				}
				if names[kind+name] {
					t.Errorf("K=%d: duplicate object %s %s", k, kind, name)
				}
				names[kind+name] = true
			}
		}
		if n != k {
			t.Errorf("K=%d: got %d objects", k, n)
		}
		for _, cl := range []string{"cluster-00", "cluster-01"} {
			if _, err := os.Stat(filepath.Join(dir, "apps", "app-000", "overlays", cl, "kustomization.yaml")); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestDependsOnChain(t *testing.T) {
	dir := t.TempDir()
	gen(t, dir, "-clusters", "1", "-kustomizations", "25", "-objects", "1")
	data, err := os.ReadFile(filepath.Join(dir, "clusters", "cluster-00", "kustomizations.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]string{}
	for _, doc := range splitDocs(string(data)) {
		var name string
		lines := strings.Split(doc, "\n")
		for i, line := range lines {
			if strings.HasPrefix(line, "  name: ") && name == "" {
				name = strings.TrimPrefix(line, "  name: ")
			}
			if line == "  dependsOn:" {
				deps[name] = strings.TrimPrefix(lines[i+1], "    - name: ")
			}
		}
	}
	want := map[string]string{"app-010": "app-000", "app-020": "app-010"}
	if len(deps) != len(want) || deps["app-010"] != "app-000" || deps["app-020"] != "app-010" {
		t.Errorf("dependsOn = %v, want %v", deps, want)
	}
}

func TestDeterministic(t *testing.T) {
	read := func(seed string) map[string]string {
		dir := t.TempDir()
		gen(t, dir, "-clusters", "2", "-kustomizations", "4", "-objects", "20", "-seed", seed)
		files := map[string]string{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				files[rel] = string(b)
			}
			return err
		})
		return files
	}
	a, b, c := read("7"), read("7"), read("8")
	if len(a) != len(b) {
		t.Fatalf("file count differs: %d vs %d", len(a), len(b))
	}
	for p := range a {
		if a[p] != b[p] {
			t.Errorf("%s differs between runs with the same seed", p)
		}
	}
	same := true
	for p := range a {
		if a[p] != c[p] {
			same = false
		}
	}
	if same {
		t.Error("seeds 7 and 8 produced identical output")
	}
}

func TestFlagErrors(t *testing.T) {
	nonEmpty := t.TempDir()
	os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-clusters", "1"}, "-out is required"},
		{[]string{"-out", t.TempDir(), "-clusters", "0"}, "-clusters must be between 1 and"},
		{[]string{"-out", t.TempDir(), "-kustomizations", "-3"}, "-kustomizations must be between 1 and"},
		{[]string{"-out", t.TempDir(), "-objects", "100000"}, "-objects must be between 1 and"},
		{[]string{"-out", t.TempDir(), "extra"}, "unexpected arguments: extra"},
		{[]string{"-out", nonEmpty}, "directory is not empty"},
		{[]string{"-out", t.TempDir(), "-objects", "ten"}, "invalid value"},
	} {
		err := run(tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%v) = %v, want error containing %q", tc.args, err, tc.want)
		}
	}
}
